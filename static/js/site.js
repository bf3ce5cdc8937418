// Behaviour shared by every page, kept out of the markup so the Content-Security-Policy can forbid inline script.
document.addEventListener("DOMContentLoaded", function () {
  // <select data-autosubmit> sends its form when changed; a <noscript> button covers browsers without script.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
});
