// Behaviour of the sources panel (runs once, as the panel's js_on_load).
// `element` is the panel, `server.document_view` renders a whole document on the server,
// `props.close_label` is the localised "close". Every HTML string inserted here was built
// by assistant/web/render.py from escaped text.
const panel = element;

function showCard(id) {
  const card = panel.querySelector("#" + CSS.escape(id));
  if (!card) return;
  const section = card.closest("section.yj-turn");
  panel.querySelectorAll("section.yj-turn").forEach((s) => { s.hidden = s !== section; });
  const others = card.closest("details");
  if (others) others.open = true;
  card.scrollIntoView({ block: "nearest", behavior: "smooth" });
  panel.querySelectorAll(".yj-card.yj-active").forEach((c) => c.classList.remove("yj-active"));
  card.classList.add("yj-active");
}

function viewer() {
  let modal = document.getElementById("yj-viewer");
  if (modal) return modal;
  modal = document.createElement("div");
  modal.id = "yj-viewer";
  modal.className = "yj-modal";
  modal.hidden = true;
  modal.innerHTML =
    '<div class="yj-modal-box" role="dialog" aria-modal="true">' +
    '<div class="yj-modal-bar"><button type="button" class="yj-close"></button></div>' +
    '<div class="yj-modal-body"></div></div>';
  modal.querySelector(".yj-close").textContent = props.close_label || "×";
  const close = () => { modal.hidden = true; };
  modal.addEventListener("click", (event) => {
    if (event.target === modal || event.target.closest(".yj-close")) close();
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
  document.body.appendChild(modal);
  return modal;
}

async function openDocument(button) {
  const modal = viewer();
  const body = modal.querySelector(".yj-modal-body");
  const html = await server.document_view({
    source: button.dataset.source,
    start: Number(button.dataset.start),
    end: Number(button.dataset.end),
  });
  body.innerHTML = html;
  modal.hidden = false;
  const hit = body.querySelector("#yj-doc-hit");
  if (hit) hit.scrollIntoView({ block: "center" });
}

panel.addEventListener("click", (event) => {
  const button = event.target.closest("button.yj-open");
  if (button) openDocument(button);
});

document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a.yj-cite");
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  showCard(link.getAttribute("href").slice(1));
}, true);
