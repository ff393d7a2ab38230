// 登记办件: list the materials not ticked (and without a scan) in the correction notice, until the
// handler types the list himself. The server does the same when the list is left empty.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector('[data-testid="register-form"]');
  const items = form && form.querySelector("[data-material-items]");
  if (!items) return;
  let typed = items.value.trim() !== "";
  items.addEventListener("input", () => { typed = items.value.trim() !== ""; });
  const rows = Array.from(form.querySelectorAll('[data-testid="material"]'));
  const refresh = () => {
    if (typed) return;
    items.value = rows
      .filter((row) => !row.querySelector('input[type="checkbox"]').checked
        && !(row.querySelector('input[type="file"]').files || []).length)
      .map((row) => row.querySelector("label.checkbox").textContent.trim())
      .join("\n");
  };
  rows.forEach((row) => row.addEventListener("change", refresh));
  refresh();
});
