// The only script: "select all shown" for bulk approval, and a count on the bulk button.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("pick-all");
  const picks = Array.from(document.querySelectorAll("input.pick"));
  const button = document.querySelector("[data-testid=bulk-approve]");
  if (!button) return;
  const refresh = () => {
    const n = picks.filter((p) => p.checked).length;
    button.textContent = n ? `Approve selected (${n})` : "Approve selected";
    button.disabled = n === 0;
  };
  if (all) all.addEventListener("change", () => { picks.forEach((p) => { p.checked = all.checked; }); refresh(); });
  picks.forEach((p) => p.addEventListener("change", refresh));
  refresh();
});
