// The review queue's bulk approval; the page works without it (the server decides what is approved).
// 全选 leaves out rows with an outlier note; ticking 已核对异常值说明 for one also selects its row.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('input[name="selected"]:not([data-outlier])').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
  document.querySelectorAll('input[name="confirm_outlier"]').forEach(function (confirm) {
    confirm.addEventListener("change", function () {
      var row = document.querySelector('input[name="selected"][value="' + confirm.getAttribute("data-row") + '"]');
      if (row && confirm.checked) row.checked = true;
    });
  });
});
