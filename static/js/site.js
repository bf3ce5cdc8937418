// Behaviour shared by every page, kept out of the markup so the Content-Security-Policy can forbid inline script.
document.addEventListener("DOMContentLoaded", function () {
  // <select data-autosubmit> sends its form when changed; a <noscript> button covers browsers without script.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // Another plan has its own years and regions: once the plan changes, the year and region chosen for the old
  // plan are not sent (disabled fields are not submitted), so the new plan's defaults apply instead of a refusal.
  document.querySelectorAll("form.board-filters select[name=plan]").forEach(function (select) {
    select.addEventListener("change", function () {
      ["year", "region"].forEach(function (name) {
        var field = select.form.elements[name];
        if (field) { field.disabled = true; }
      });
    });
  });
});
