// Behaviour of the sources panel (runs once, as the panel's js_on_load).
// `element` is the panel, `server.document_view` renders a page of a document on the server,
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
    const turn = event.target.closest("button.yj-doc-page");
    if (turn && !turn.disabled) {
      showDocument({ ...modal.yjTarget, offset: Number(turn.dataset.offset) });
    }
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
  document.body.appendChild(modal);
  return modal;
}

// Show one page of a document: `target` is {source, start, end} of the cited span, with
// `offset` (the page's first character) once the reader turns pages.
async function showDocument(target) {
  const modal = viewer();
  const body = modal.querySelector(".yj-modal-body");
  modal.yjTarget = { source: target.source, start: target.start, end: target.end };
  body.innerHTML = await server.document_view(target);
  modal.hidden = false;
  const hit = body.querySelector("#yj-doc-hit");
  if (hit) hit.scrollIntoView({ block: "center" });
  else body.scrollTop = 0;
}

panel.addEventListener("click", (event) => {
  const button = event.target.closest("button.yj-open");
  if (!button) return;
  showDocument({
    source: button.dataset.source,
    start: Number(button.dataset.start),
    end: Number(button.dataset.end),
  });
});

document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a.yj-cite");
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  showCard(link.getAttribute("href").slice(1));
}, true);
