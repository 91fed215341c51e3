// Progressive enhancement only: the form works without this script. For a personal link it keeps
// the draft as the respondent answers (as the Streamlit page did after each change), not only at
// each Next, by posting the form with action=draft; the server answers 204 and stores the draft.
(function () {
  var form = document.getElementById("survey-form");
  if (!form || !form.hasAttribute("data-drafts")) return;
  var timer = null;
  function save() {
    var data = new URLSearchParams(new FormData(form));
    data.set("action", "draft");
    // getAttribute: `form.action` is the button named "action"
    fetch(form.getAttribute("action"), {method: "POST", body: data, credentials: "same-origin", keepalive: true})
      .catch(function () {});  // a draft is a convenience: the next change or step retries
  }
  function later(wait) {
    clearTimeout(timer);
    timer = setTimeout(save, wait);
  }
  form.addEventListener("change", function () { later(300); });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") later(1500);
  });
})();
