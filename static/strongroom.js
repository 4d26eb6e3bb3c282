// Strongroom's only script, served from this node as the Content-Security-Policy
// requires: no inline script or event attribute runs on any page.
"use strict";

function hideAfter(revealed) {
  // A revealed password leaves the screen (its copy button too) after the node's
  // STRONGROOM_REVEAL_HIDE_SECONDS: a page left open must not keep showing it.
  const seconds = Number(revealed.dataset.hideAfter);
  const note = document.getElementById("revealed-hidden");
  window.setTimeout(() => revealed.replaceChildren(note.content.cloneNode(true)),
                    seconds * 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  const revealed = document.getElementById("revealed");
  if (revealed) {
    document.getElementById("copy-password").addEventListener("click", () => {
      navigator.clipboard.writeText(document.getElementById("revealed-password").value);
    });
    hideAfter(revealed);
  }
  // Cancel goes back where the user came from; without history, to its href.
  for (const link of document.querySelectorAll("a[data-back]")) {
    link.addEventListener("click", (event) => {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  }
});
