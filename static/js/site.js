// Behaviour shared by every page, kept out of the markup so the Content-Security-Policy can forbid inline script.
document.addEventListener("DOMContentLoaded", function () {
  // The phone menu: at narrow widths (static/css/app.css) the navigation is folded behind its 菜单 button once this
  // script runs (the "nav-js" class); without script the button stays hidden and the navigation open.
  document.querySelectorAll(".nav-toggle[aria-controls]").forEach(function (button) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) { return; }
    var set = function (open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("open", open);
    };
    button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        set(false);
        button.focus();
      }
    });
    document.documentElement.classList.add("nav-js");
  });
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
