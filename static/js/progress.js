// Polls an Excel import's progress and reloads the page when it has finished.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("import-progress");
  if (!box) return;
  var bar = document.getElementById("import-bar"), count = document.getElementById("import-count");
  function poll() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.total) { bar.max = d.total; bar.value = d.done; count.textContent = d.done + " / " + d.total; }
        if (d.state !== "applying") { window.location.reload(); } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
});
