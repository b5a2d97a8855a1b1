// The moderators' console: the script of its three pages (serve/console/__init__.py).
//
// The key: asked once per browser tab and kept in sessionStorage, which belongs to this tab
// and this server only, is gone when the tab is closed, and is never sent anywhere by the
// browser on its own (unlike a cookie, so no other site can make the browser use it). The pages
// are separate documents, so a key kept only in memory would be asked again on every page;
// localStorage would keep it on the disk after the browser is closed. The key is never put in
// a URL: it travels only in the Authorization header of the API requests made here.
//
// Safety: the page's Content-Security-Policy allows no script but this file and enforces
// Trusted Types with no policy, so nothing here may (or can) turn a string into markup: every
// text from the server is put in the page with textContent.
"use strict";

(function () {
  const KEY_NAME = "warning-console-key";
  const config = JSON.parse(document.getElementById("console-config").textContent);
  const messages = JSON.parse(document.getElementById("console-messages").textContent);
  const lang = config.lang;
  const two = new Intl.NumberFormat(lang, {minimumFractionDigits: 2, maximumFractionDigits: 2});
  const when = new Intl.DateTimeFormat(lang, {dateStyle: "medium", timeStyle: "short"});
  let key = null;
  let me = null;

  // ---- small helpers ---------------------------------------------------------------------

  function t(name, values) {
    let text = messages.text[name] || name;
    for (const [place, value] of Object.entries(values || {})) {
      text = text.split("{" + place + "}").join(String(value));
    }
    return text;
  }

  function labelName(name) { return messages.labels[name] || name; }
  function groupName(name) { return messages.groups[name] || name; }
  function langName(code) { return messages.languages[code] || code || messages.languages.other; }

  // An element with attributes and children (strings become text nodes, never markup).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function byId(id) { return document.getElementById(id); }

  function announce(text) {
    const status = byId("status");
    status.textContent = "";
    window.setTimeout(() => { status.textContent = text; }, 50);
  }

  class ApiFailure extends Error {
    constructor(status, detail, code) {
      super(detail);
      this.status = status;
      this.detail = detail;
      this.code = code || "";  // the end of a problem's type: "unknown-response-id"
    }
  }

  async function api(method, path, body, raw) {
    const headers = {"Authorization": "Bearer " + key};
    const init = {method: method, headers: headers, cache: "no-store", credentials: "omit",
                  referrerPolicy: "no-referrer"};
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new ApiFailure(0, t("unreachable"));
    }
    if (!response.ok) {
      let detail = response.statusText;
      let code = "";
      try {
        const problem = await response.json();
        detail = problem.detail || (problem.error && problem.error.message) || detail;
        code = String(problem.type || "").split(":").pop();
      } catch (error) { /* not JSON: keep the status text */ }
      throw new ApiFailure(response.status, detail, code);
    }
    if (raw) return response;
    return response.status === 204 ? null : response.json();
  }

  function hasRole(needed) {
    const order = ["submit", "review", "admin"];
    return me !== null && order.indexOf(me.role) >= order.indexOf(needed);
  }

  // ---- what a key may no longer see ------------------------------------------------------

  // Empty what the page shows from the API: on a 401 or 403 answer (the key was revoked, or
  // its role no longer allows the page) and when the key is forgotten, so that nothing read
  // with one key stays on the screen for a key that may not read it.
  function clearData() {
    if (config.page === "check") {
      byId("result-list").replaceChildren();
      byId("results").hidden = true;
      byId("check-status").textContent = "";
    } else if (config.page === "review") {
      byId("queue").replaceChildren();
      byId("counts").replaceChildren();
    } else {
      byId("export-rows").replaceChildren();
      byId("export-table").hidden = true;
      byId("export-status").textContent = "";
    }
  }

  // A 401 answer, or a 403 for the key's role: the page's data is removed and the page says
  // why (true); any other failure is left to the caller (false), a 403 that refuses one
  // action but not the key too (same-person: a reviewer's own item, four eyes).
  function refused(error) {
    if (error.status !== 401 && !(error.status === 403 && error.code === "role-required")) {
      return false;
    }
    const text = error.status === 401 ? t("key_refused")
      : t("not_allowed", {detail: error.message});
    if (config.page === "check") {
      clearData();
      byId("check-status").textContent = text;
    } else {
      denied(config.page + "-denied", config.page + "-main", text);
    }
    return true;
  }

  // ---- the key ---------------------------------------------------------------------------

  async function signIn(candidate) {
    key = candidate;
    try {
      me = await api("GET", "/v1/whoami");
    } catch (error) {
      key = null;
      me = null;
      throw error;
    }
    window.sessionStorage.setItem(KEY_NAME, candidate);
  }

  function forget() {
    window.sessionStorage.removeItem(KEY_NAME);
    key = null;
    me = null;
    clearData();  // the next key may not be allowed to see it
    byId("app").hidden = true;
    byId("nav").hidden = true;
    byId("login").hidden = false;
    byId("key").value = "";
    byId("key").focus();
  }

  function showApp() {
    byId("login").hidden = true;
    byId("app").hidden = false;
    byId("nav").hidden = false;
    for (const item of document.querySelectorAll("#nav li[data-page]")) {
      const page = item.getAttribute("data-page");
      item.hidden = page !== "check" && !hasRole("review");
    }
    byId("who").textContent = t("signed_in", {role: t("role_" + me.role)});
    byId("forget").textContent = t("forget");
    const start = {check: startCheck, review: startReview, export: startExport}[config.page];
    start();
  }

  function setupLogin() {
    byId("forget").addEventListener("click", forget);
    byId("login-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = byId("login-status");
      status.textContent = "";
      const candidate = byId("key").value.trim();
      if (!candidate) return;
      try {
        await signIn(candidate);
      } catch (error) {
        status.textContent = error.status === 401 ? t("key_rejected") : error.message;
        byId("key").focus();
        return;
      }
      byId("key").value = "";
      showApp();
      byId("page-heading").setAttribute("tabindex", "-1");
      byId("page-heading").focus();
    });
  }

  // ---- Check -----------------------------------------------------------------------------

  function splitPosts(text) {
    return text.split(/\r?\n[ \t]*\r?\n/).map((post) => post.trim()).filter((post) => post);
  }

  // A word of an explanation without the punctuation around it ("идиот," -> "идиот").
  function bareWord(word) { return word.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ""); }

  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  // The post's text, with every word of the explanation marked (whole words, any case).
  function highlighted(text, explanation) {
    const words = new Set();
    for (const pairs of Object.values(explanation || {})) {
      for (const [word, drop] of pairs) {
        const bare = bareWord(word);
        if (bare && drop > 0) words.add(bare);
      }
    }
    const node = el("p", {class: "post", lang: ""});
    if (!words.size) {
      node.textContent = text;
      return node;
    }
    const alternatives = [...words].sort((a, b) => b.length - a.length).map(escapeRegExp);
    const pattern = new RegExp("(?<![\\p{L}\\p{N}_])(?:" + alternatives.join("|") +
                               ")(?![\\p{L}\\p{N}_])", "giu");
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      node.append(document.createTextNode(text.slice(last, match.index)));
      node.append(el("mark", {text: match[0]}));
      last = match.index + match[0].length;
    }
    node.append(document.createTextNode(text.slice(last)));
    return node;
  }

  function meaning(label, score) {
    if (score === null || score === undefined) return t("not_scored");
    return t("means_" + label, {n: Math.round(score * 100)});
  }

  function scoreTable(result) {
    const body = el("tbody");
    for (const [label, score] of Object.entries(result.scores)) {
      if (score === null && label === "extremism") continue;  // off: said once in the docs
      const flagged = result.flagged.includes(label);
      const cell = el("td", {class: "score"});
      if (score !== null) {
        cell.append(el("meter", {min: "0", max: "1", value: String(score),
                                 "aria-hidden": "true"}), " ", two.format(score));
      } else {
        cell.append("—");
      }
      body.append(el("tr", {class: flagged ? "flagged" : null},
        el("th", {scope: "row"}, labelName(label), " ",
           el("span", {class: flagged ? "badge on" : "badge", text:
             flagged ? t("flagged") : t("not_flagged")})),
        cell,
        el("td", {text: meaning(label, score)})));
    }
    return el("table", {class: "scores"},
      el("caption", {text: t("scores_caption")}),
      el("thead", {}, el("tr", {},
        el("th", {scope: "col", text: t("label_column")}),
        el("th", {scope: "col", text: t("score_column")}),
        el("th", {scope: "col", text: t("meaning_column")}))),
      body);
  }

  // Feedback on a result by its response id (the model's scores are kept with it); by the
  // text when the server no longer knows that id (another worker, a restart, an hour later).
  async function sendCorrection(result, text, labels, note) {
    if (result.id) {
      try {
        return await api("POST", "/v1/feedback", {response_id: result.id, labels: labels,
                                                  note: note});
      } catch (error) {
        const gone = ["unknown-response-id", "response-id-expired", "response-ids-off"];
        if (error.status !== 422 || !gone.includes(error.code)) throw error;
      }
    }
    return api("POST", "/v1/feedback", {text: text, lang: result.lang, labels: labels,
                                        note: note});
  }

  function correctBox(result, text, index) {
    const box = el("div", {class: "correct"});
    const headingId = "correct-" + index;
    box.append(el("h4", {id: headingId, text: t("correct_heading")}));
    if (!me.feedback) {
      box.append(el("p", {text: t("feedback_off")}));
      return box;
    }
    const noteId = "note-" + index;
    const status = el("p", {role: "status", class: "sent", tabindex: "-1"});
    const note = el("input", {id: noteId, type: "text", maxlength: "2000", autocomplete: "off"});
    box.append(el("p", {class: "hint", text: t("correct_hint")}),
               el("label", {for: noteId, text: t("note")}), note);
    const buttons = el("p", {class: "buttons", role: "group", "aria-labelledby": headingId});
    for (const label of me.labels) {
      if (result.scores[label] === null || result.scores[label] === undefined) continue;
      const flagged = result.flagged.includes(label);
      const button = el("button", {type: "button", "data-label": label,
        text: t(flagged ? "is_not_label" : "is_label", {label: labelName(label)})});
      button.addEventListener("click", async () => {
        button.disabled = true;
        const labels = {[label]: !flagged};
        const noteText = note.value.trim() || undefined;
        try {
          await sendCorrection(result, text, labels, noteText);
        } catch (error) {
          if (refused(error)) return;
          button.disabled = false;
          status.textContent = t("server_said", {detail: error.message});
          return;
        }
        status.textContent = t(flagged ? "sent_no" : "sent_yes", {label: labelName(label)});
        status.focus();  // the pressed button is now disabled: keep the keyboard's place
      });
      buttons.append(button);
    }
    box.append(buttons, status);
    return box;
  }

  function resultCard(result, text, index) {
    const card = el("li", {class: "card"});
    card.append(el("h3", {text: t("post_n", {n: index + 1})}));
    if (result.error) {
      card.append(el("p", {class: "post", text: text}),
                  el("p", {role: "alert", text: t("server_said", {detail: result.error})}));
      return card;
    }
    card.append(highlighted(text, result.explanation));
    const facts = el("ul", {class: "facts"});
    facts.append(el("li", {text: t("risk", {risk: messages.risks[result.risk] || result.risk})}),
                 el("li", {text: result.review ? t("review_yes") : t("review_no")}),
                 el("li", {text: t("language", {lang: langName(result.lang)})}),
                 el("li", {text: result.targets.length
                   ? t("groups", {groups: result.targets.map(groupName).join(", ")})
                   : t("no_groups")}));
    card.append(facts, scoreTable(result));
    for (const [label, pairs] of Object.entries(result.explanation || {})) {
      const words = pairs.filter((pair) => pair[1] > 0).map((pair) => bareWord(pair[0]))
        .filter((word) => word);
      if (words.length) {
        card.append(el("p", {class: "words",
                             text: t("words_behind", {label: labelName(label),
                                                      words: words.join(", ")})}));
      }
    }
    card.append(correctBox(result, text, index));
    return card;
  }

  function startCheck() {
    const form = byId("check-form");
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = byId("check-status");
      const posts = splitPosts(byId("posts").value);
      if (!posts.length) {
        status.textContent = t("no_posts");
        return;
      }
      status.textContent = "";
      announce(t("checking"));
      let answer;
      try {
        answer = await api("POST", "/v1/score", {texts: posts, explain: true});
      } catch (error) {
        if (refused(error)) return;
        status.textContent = t("server_said", {detail: error.message});
        return;
      }
      const list = byId("result-list");
      list.replaceChildren(...answer.results.map((result, i) => resultCard(result, posts[i], i)));
      byId("results").hidden = false;
      byId("results-heading").focus();
      announce(t("checked", {n: answer.results.length}));
    });
  }

  // ---- Review ----------------------------------------------------------------------------

  // The page's data removed and hidden, and why in its place.
  function denied(id, mainId, text) {
    clearData();
    const box = byId(id);
    box.textContent = text || t("needs_review", {role: me.role});
    box.hidden = false;
    byId(mainId).hidden = true;
  }

  // A key allowed the page (after another key was refused it in this tab): the page again.
  function allowed(id, mainId) {
    byId(id).hidden = true;
    byId(mainId).hidden = false;
  }

  function scoreList(item) {
    if (!item.scores) return el("p", {text: t("scores_unknown")});
    const list = el("ul", {class: "plain"});
    for (const [label, score] of Object.entries(item.scores)) {
      if (score === null) continue;
      list.append(el("li", {text: labelName(label) + ": " + two.format(score)}));
    }
    return list;
  }

  function reviewCard(item, index) {
    const card = el("li", {class: "card", "data-id": item.id});
    const headingId = "item-" + index;
    card.append(el("h3", {id: headingId,
                          text: t("item_heading", {date: when.format(new Date(item.created))})}));
    const correction = el("ul", {class: "plain"});
    for (const [label, value] of Object.entries(item.labels)) {
      correction.append(el("li", {text: t(value ? "should_flag" : "should_not_flag",
                                          {label: labelName(label)})}));
    }
    const side = el("div", {class: "side"},
      el("section", {}, el("h4", {text: t("post")}),
         el("p", {class: "post", text: item.text}),
         el("p", {class: "hint", text: t("language", {lang: langName(item.lang)})})),
      el("section", {}, el("h4", {text: t("model_scores")}), scoreList(item)),
      el("section", {}, el("h4", {text: t("correction")}), correction,
         item.note ? el("p", {text: t("their_note", {note: item.note})}) : null));
    const noteId = "review-note-" + index;
    const note = el("input", {id: noteId, type: "text", maxlength: "2000", autocomplete: "off"});
    const status = el("p", {role: "status", tabindex: "-1"});
    const buttons = el("p", {class: "buttons", role: "group", "aria-labelledby": headingId});
    for (const decision of ["confirm", "reject"]) {
      const button = el("button", {type: "button", "data-decision": decision,
                                   text: t(decision)});
      button.addEventListener("click", async () => {
        for (const other of buttons.querySelectorAll("button")) other.disabled = true;
        const body = {decision: decision};
        if (note.value.trim()) body.note = note.value.trim();
        try {
          await api("POST", "/v1/feedback/" + encodeURIComponent(item.id) + "/review", body);
        } catch (error) {
          if (refused(error)) return;
          for (const other of buttons.querySelectorAll("button")) other.disabled = false;
          status.textContent = t("server_said", {detail: error.message});
          return;
        }
        status.textContent = t(decision === "confirm" ? "confirmed" : "rejected");
        card.classList.add("done");
        status.focus();
        await loadCounts();
      });
      buttons.append(button);
    }
    card.append(side, el("label", {for: noteId, text: t("your_note")}), note, buttons, status);
    return card;
  }

  function queuePath() {
    const params = new URLSearchParams();
    const filterLang = byId("filter-lang").value;
    const filterLabel = byId("filter-label").value;
    if (filterLang) params.set("lang", filterLang);
    if (filterLabel) params.set("label", filterLabel);
    const query = params.toString();
    return "/v1/review/queue" + (query ? "?" + query : "");
  }

  function showCounts(queue) {
    const list = (counts, name) => Object.entries(counts)
      .map(([code, n]) => name(code) + ": " + n).join(", ");
    const items = [el("li", {text: t("waiting", {n: queue.waiting})})];
    if (queue.waiting) {
      items.push(el("li", {text: t("waiting_by_lang", {list: list(queue.by_lang, langName)})}),
                 el("li", {text: t("waiting_by_label",
                                   {list: list(queue.by_label, labelName)})}));
    }
    items.push(el("li", {text: t("own_waiting", {n: queue.own_pending})}),
               el("li", {text: t("shown", {n: queue.matching})}));
    byId("counts").replaceChildren(...items);
  }

  async function loadCounts() {
    try {
      showCounts(await api("GET", queuePath()));
    } catch (error) {
      refused(error);  // else the list stays as it is; the next "Show" says what went wrong
    }
  }

  async function loadQueue(focus) {
    let queue;
    try {
      queue = await api("GET", queuePath());
    } catch (error) {
      if (!refused(error)) {
        byId("queue").replaceChildren(el("li", {role: "alert", text:
          error.status === 404 ? t("feedback_off") : t("server_said", {detail: error.message})}));
      }
      return;
    }
    showCounts(queue);
    const cards = queue.items.map(reviewCard);
    byId("queue").replaceChildren(...(cards.length ? cards
      : [el("li", {class: "empty", text: t("nothing_waits")})]));
    if (focus) byId("queue-heading").focus();
  }

  function startReview() {
    if (!hasRole("review")) {
      denied("review-denied", "review-main");
      return;
    }
    allowed("review-denied", "review-main");
    const form = byId("review-filters");
    if (!form.dataset.ready) {
      form.dataset.ready = "1";
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        loadQueue(true);
      });
    }
    loadQueue(false);
  }

  // ---- Export ----------------------------------------------------------------------------

  async function download(format) {
    const status = byId("export-status");
    let response;
    try {
      response = await api("GET", "/v1/review/export?format=" + format, undefined, true);
    } catch (error) {
      if (refused(error)) return;
      status.textContent = t("server_said", {detail: error.message});
      return;
    }
    const name = "feedback-confirmed." + format;
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", {href: url, download: name, hidden: true});
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10000);
    status.textContent = t("downloaded", {file: name});
  }

  async function startExport() {
    if (!hasRole("review")) {
      denied("export-denied", "export-main");
      return;
    }
    allowed("export-denied", "export-main");
    const status = byId("export-status");
    for (const format of ["jsonl", "csv"]) {
      const button = byId("download-" + format);
      if (!button.dataset.ready) {
        button.dataset.ready = "1";
        button.addEventListener("click", () => download(format));
      }
    }
    let response;
    try {
      response = await api("GET", "/v1/review/export?format=jsonl", undefined, true);
    } catch (error) {
      if (!refused(error)) {
        status.textContent = error.status === 404 ? t("feedback_off")
          : t("server_said", {detail: error.message});
      }
      return;
    }
    const rows = (await response.text()).split("\n").filter((line) => line.trim())
      .map((line) => JSON.parse(line));
    status.textContent = rows.length ? t("confirmed_count", {n: rows.length})
      : t("nothing_confirmed");
    const body = byId("export-rows");
    body.replaceChildren(...rows.map((row) => el("tr", {},
      el("td", {class: "post", text: row.text}),
      el("td", {text: langName(row.lang)}),
      el("td", {text: Object.keys(messages.labels)
        .filter((label) => row[label] !== null && row[label] !== undefined)
        .map((label) => labelName(label) + ": " + t(row[label] ? "yes" : "no"))
        .join(", ")}))));
    byId("export-table").hidden = rows.length === 0;
  }

  // ---- start -----------------------------------------------------------------------------

  async function start() {
    setupLogin();
    const kept = window.sessionStorage.getItem(KEY_NAME);
    if (kept) {
      try {
        await signIn(kept);
        showApp();
        return;
      } catch (error) {
        if (error.status === 401) window.sessionStorage.removeItem(KEY_NAME);
        byId("login-status").textContent = error.status === 401 ? t("key_rejected")
          : error.message;
      }
    }
    byId("login").hidden = false;
  }

  start();
})();
