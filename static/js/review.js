// 全选 on the review queue; the page works without it.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll('input[name="selected"]').forEach(function (box) { box.checked = all.checked; });
  });
});
