// Add a formset row from its <template> (Django's empty_form), numbering it and updating TOTAL_FORMS.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-add-row]");
  if (!button) return;
  const prefix = button.dataset.addRow;
  const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
  const template = document.getElementById(prefix + "-empty");
  const body = document.querySelector('[data-formset="' + prefix + '"] tbody');
  if (!total || !template || !body) return;
  const index = parseInt(total.value, 10);
  body.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
  total.value = String(index + 1);
  const first = body.lastElementChild && body.lastElementChild.querySelector("input, select");
  if (first) first.focus();
});

// Behaviour that would otherwise be inline handlers, which the Content-Security-Policy forbids.
// <select data-submit-on-change>: submit its form when the choice changes (the company switcher).
document.addEventListener("change", function (event) {
  const field = event.target.closest && event.target.closest("[data-submit-on-change]");
  if (field && field.form) field.form.submit();
});
// <button data-print>: print the page.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
// Controls that only work with JavaScript (e.g. the invoice form's client search) are hidden until now.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-needs-js][hidden]").forEach(function (element) { element.hidden = false; });
});
// <input data-search-for="id">: Enter or ArrowDown moves to the list it narrows (the invoice form's
// client search) instead of submitting the form, so a client is chosen from the keyboard.
document.addEventListener("keydown", function (event) {
  const search = event.target.closest && event.target.closest("[data-search-for]");
  if (!search || (event.key !== "Enter" && event.key !== "ArrowDown")) return;
  const list = document.getElementById(search.dataset.searchFor);
  if (!list) return;
  event.preventDefault();
  list.focus();
});
