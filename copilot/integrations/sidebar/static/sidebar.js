/* The copilot sidebar: one page for Zendesk (ZAF), Freshdesk and standalone use.
 *
 * Host detection: window.ZAFClient -> Zendesk; window.app (Freshdesk's app SDK) -> Freshdesk;
 * otherwise standalone: /sidebar?ticket=ID&text=...&brand=... with the API token in the URL
 * fragment (#token=...), which browsers never send to servers or put in logs.
 */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const state = { host: null, token: fragment.get("token") || params.get("token") || "", apiBase: "",
                  ticket: null, suggestion: null };
  const FLAG_TEXT = {
    escalate: ["Escalation", true],
    unsupported_claim: ["Unsupported claim", true], possible_prompt_injection: ["Injection attempt ignored", false],
    llm_fallback: ["Offline draft (LLM failed)", false], language_unsupported: ["Language not supported", true],
  };
  // Either flag: "No confident draft"; the draft is collapsed and Insert is not the primary button.
  const LOW = {
    no_evidence: "nothing similar enough was found, so the draft is only a holding reply",
    low_confidence: "the confidence is below this brand's threshold",
  };
  const REASONS = {
    anger: "Anger", legal_threat: "Legal threat", public_complaint: "Public complaint",
    chargeback: "Chargeback or dispute", churn_risk: "Churn risk", safety: "Safety hazard",
    manager_request: "Asks for a manager",
  };
  const URGENT = 0.6;
  const PLACEHOLDER = /\[[A-Z][A-Z0-9_]*\]/g;   // redaction placeholders: [HANDLE], [NAME_2]
  // Helpdesk agents cannot create tokens: they are told whom to ask (the server's hint is for admins).
  const AUTH_TEXT = "Your access to the copilot has expired or is not valid. Ask your admin for a new API token.";

  function busy(text) {
    $("status").textContent = text; $("status").className = "status busy"; $("status").hidden = false;
    document.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  }
  function idle(text) {
    $("status").textContent = text || ""; $("status").className = "status"; $("status").hidden = !text;
    document.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  }
  function showError(message) {
    $("error").textContent = message; $("error").hidden = false; idle("");
  }
  function clearError() { $("error").hidden = true; $("error").textContent = ""; }

  async function api(method, path, body) {
    if (state.host && state.host.request) {
      // Zendesk and Freshdesk proxy the call and add the secret token server-side.
      let out;
      try { out = await state.host.request(method, state.apiBase + path, body); }
      catch (e) {
        if (e && e.status === 401) throw new Error(AUTH_TEXT);
        const err = (e && e.responseJSON && e.responseJSON.error) || {};
        throw new Error((err.message || "the copilot service failed") + (err.hint ? " (" + err.hint + ")" : ""));
      }
      return typeof out === "string" ? JSON.parse(out) : out;
    }
    let res;
    try {
      res = await fetch(state.apiBase + path, {
        method, headers: { "Content-Type": "application/json", Authorization: "Bearer " + state.token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error("The copilot service cannot be reached. Check your connection and try again.");
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401) throw new Error(AUTH_TEXT);
    if (!res.ok) {
      const err = (data && data.error) || {};
      const msg = (err.message || ("HTTP " + res.status)) + (err.hint ? " (" + err.hint + ")" : "");
      throw new Error(msg + (err.request_id ? " [request " + err.request_id + "]" : ""));
    }
    return data;
  }

  /** A source's title for people: without redaction placeholders, and never "None". */
  function sourceLabel(c) {
    const title = (c.title || "").replace(PLACEHOLDER, " ").replace(/\s+/g, " ").replace(/^[\s,:;-]+|[\s,:;-]+$/g, "");
    if (title && !/^(none|null)$/i.test(title)) return title;
    return (c.kind === "article" ? "Article " : "Past ticket ") + String(c.source_id || "").replace(/^[a-z]+:/, "");
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function sourceLink(c) {
    if (!(c.url && /^https?:\/\//.test(c.url))) return document.createTextNode(sourceLabel(c));
    const a = el("a", sourceLabel(c));
    a.href = c.url; a.target = "_blank"; a.rel = "noopener noreferrer";
    return a;
  }

  /** The reply as text, with its web links clickable (an article named in the reply is one click away). */
  function showReply(node, text) {
    node.replaceChildren();
    text.split(/(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]])/).forEach((part, i) => {
      if (i % 2) {
        const a = el("a", part);
        a.href = part; a.target = "_blank"; a.rel = "noopener noreferrer";
        node.appendChild(a);
      } else if (part) node.appendChild(document.createTextNode(part));
    });
  }

  function renderSignals(s) {
    const signals = $("signals");
    signals.replaceChildren();
    if (s.sentiment) {
      signals.appendChild(el("span", "Customer: " + s.sentiment.label, s.sentiment.label));
      if (s.sentiment.urgency >= URGENT) {
        signals.appendChild(el("span", "Urgent (" + Math.round(s.sentiment.urgency * 100) + "%)", "urgent"));
      }
    }
    const esc = $("escalation");
    esc.replaceChildren();
    (s.escalation || []).slice(0, 3).forEach((e) => {
      const li = el("li");
      li.appendChild(el("strong", "Escalation: " + (REASONS[e.reason] || e.reason)));
      li.appendChild(document.createTextNode(" (" + Math.round(e.confidence * 100) + "%) "));
      li.appendChild(el("q", e.evidence));
      esc.appendChild(li);
    });
    esc.hidden = !esc.children.length;
  }

  function renderConfidence(s) {
    const why = Object.keys(LOW).filter((f) => (s.flags || []).includes(f)).map((f) => LOW[f]);
    const low = why.length > 0;
    $("low").hidden = !low;
    $("low-why").textContent = low ? ": " + why.join("; ") + ". The sources and next actions still apply." : "";
    const draftBox = $("draft");
    draftBox.open = !low;
    draftBox.className = low ? "secondary" : "";
    $("draft-label").textContent = low ? "Draft (not confident)" : "Suggested reply";
    $("insert").classList.toggle("primary", !low);
    $("insert").textContent = low ? "Insert anyway" : "Insert into reply";
    const other = $("other-language");
    other.replaceChildren();
    const articles = (s.citations || []).filter((c) => c.kind === "article");
    other.hidden = !(s.flags || []).includes("evidence_in_other_language");
    if (!other.hidden) {
      other.appendChild(document.createTextNode("The only relevant article is in another language"
                                                + (articles.length ? ": " : ".")));
      articles.slice(0, 2).forEach((c, i) => {
        if (i) other.appendChild(document.createTextNode(", "));
        other.appendChild(sourceLink(c));
      });
    }
  }

  function render(s) {
    state.suggestion = s;
    $("suggestion").hidden = false;
    const reply = $("reply");
    showReply(reply, s.reply);
    reply.lang = s.language || "";
    $("meta").textContent = "Confidence " + Math.round(s.confidence * 100) + "% · " + s.language + " · " + s.drafter;
    renderSignals(s);
    renderConfidence(s);
    const flags = $("flags");
    flags.replaceChildren();
    (s.flags || []).filter((f) => FLAG_TEXT[f] && !(f === "escalate" && (s.escalation || []).length)).forEach((f) => {
      flags.appendChild(el("span", FLAG_TEXT[f][0], FLAG_TEXT[f][1] ? "danger" : ""));
    });
    const guidance = $("guidance");
    guidance.replaceChildren();
    (s.guidance || []).slice(0, 5).forEach((g) => {
      const li = el("li");
      li.appendChild(el("strong", (g.title || g.source_id) + ": "));
      li.appendChild(document.createTextNode(g.text));
      guidance.appendChild(li);
    });
    $("guidance-box").hidden = !guidance.children.length;
    const cites = $("citations");
    cites.replaceChildren();
    (s.citations || []).forEach((c) => {
      const li = el("li");
      li.appendChild(sourceLink(c));
      li.appendChild(el("div", c.snippet, "snippet"));
      cites.appendChild(li);
    });
    if (!cites.children.length) cites.appendChild(el("li", "No sources found for this ticket", "snippet"));
    const acts = $("actions");
    acts.replaceChildren();
    (s.next_actions || []).slice(0, 3).forEach((a) => {
      acts.appendChild(el("li", a.title + " (" + Math.round(a.confidence * 100) + "%)" + (a.reason ? " — " + a.reason : "")));
    });
  }

  async function draft() {
    clearError();
    busy("Drafting a suggestion…");
    try {
      render(await api("POST", "/v1/suggestions", state.ticket));
      idle("");
    } catch (e) { showError("No suggestion: " + e.message); }
  }

  async function rewrite(instruction) {
    clearError();
    busy("Rewriting…");
    try {
      render(await api("POST", "/v1/suggestions/" + state.suggestion.id + "/rewrite", { instruction }));
      idle("");
    } catch (e) { showError("Could not rewrite: " + e.message); }
  }

  async function feedback(body) {
    try { await api("POST", "/v1/suggestions/" + state.suggestion.id + "/feedback", body); }
    catch (e) { showError("Feedback not saved: " + e.message); return false; }
    return true;
  }

  async function insert() {
    clearError();
    try {
      await state.host.insert(state.suggestion.reply);
      // The agent may still edit it in the editor: what is finally sent is learnt when the ticket is solved.
      if (await feedback({ outcome: "accepted", final_text: state.suggestion.reply })) idle("Inserted into the reply.");
    } catch (e) { showError("Could not insert: " + (e.message || e)); }
  }

  // --- hosts -----------------------------------------------------------------------------------

  function zendeskHost(client) {
    return {
      name: "zendesk",
      async ticket() {
        const data = await client.get(["ticket.id", "ticket.comments", "ticket.requester.name", "ticket.brand",
                                        "currentUser.locale"]);
        const comments = data["ticket.comments"] || [];
        const messages = comments.map((c) => ({
          author: c.author && c.author.role === "end-user" ? "customer" : "agent",
          body: c.value ? c.value.replace(/<[^>]+>/g, " ") : "",
        })).filter((m) => m.body.trim());
        return { id: String(data["ticket.id"]), customer_name: data["ticket.requester.name"] || null,
                 messages, brand: params.get("brand") || null };
      },
      insert: (text) => client.invoke("ticket.editor.insert", text.replace(/\n/g, "<br>")),
      request: (method, url, body) => client.request({
        url, type: method, contentType: "application/json", secure: true, cors: false,
        headers: { Authorization: "Bearer {{setting.api_token}}" },
        data: body === undefined ? undefined : JSON.stringify(body),
      }),
    };
  }

  function freshdeskHost(client) {
    return {
      name: "freshdesk",
      async ticket() {
        // The ticket's description is the customer's opening message: what a suggestion answers.
        const { ticket } = await client.data.get("ticket");
        const requester = await client.data.get("requester").catch(() => ({}));
        const messages = [{ author: "customer", body: ticket.description_text || ticket.subject || "" }];
        return { id: String(ticket.id), messages, brand: params.get("brand") || null,
                 customer_name: (requester.requester && requester.requester.name) || null };
      },
      insert: (text) => client.interface.trigger("setValue", { id: "editor", text: text.replace(/\n/g, "<br>") }),
      // config/requests.json declares the template; the token is a secure installation parameter.
      request: async (method, url, body) => {
        const res = await client.request.invokeTemplate("copilotApi", {
          context: { method, path: url.replace(state.apiBase, "") }, body: body === undefined ? "" : JSON.stringify(body),
        });
        return JSON.parse(res.response);
      },
    };
  }

  function standaloneHost() {
    return {
      name: "standalone",
      async ticket() {
        const text = params.get("text") || "";
        if (!text.trim()) throw new Error("no ticket text: open /sidebar?ticket=ID&text=... (token in #token=...)");
        return { id: params.get("ticket") || null, brand: params.get("brand") || null,
                 messages: [{ author: "customer", body: text }] };
      },
      async insert(text) {
        await navigator.clipboard.writeText(text);
      },
    };
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const el = document.createElement("script");
      el.src = src; el.onload = resolve;
      el.onerror = () => reject(new Error("could not load " + src));
      document.head.appendChild(el);
    });
  }

  async function start() {
    busy("Loading the ticket…");
    try {
      // Inside Zendesk the page is opened with ?origin=...&app_guid=...: load the ZAF SDK then.
      if (!window.ZAFClient && params.get("app_guid")) {
        await loadScript("https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js");
      }
      if (window.ZAFClient) {
        const client = window.ZAFClient.init();
        const settings = (await client.metadata()).settings || {};
        state.apiBase = (settings.service_url || "").replace(/\/$/, "");
        state.host = zendeskHost(client);
      } else if (window.app && window.app.initialized) {
        const client = await window.app.initialized();
        state.host = freshdeskHost(client);
      } else {
        state.host = standaloneHost();
        if (!state.token) throw new Error("no API token: open the sidebar with #token=... in the address");
      }
      state.ticket = await state.host.ticket();
    } catch (e) { showError("Cannot start: " + (e.message || e)); return; }
    await draft();
  }

  $("insert").addEventListener("click", insert);
  $("shorter").addEventListener("click", () => rewrite("shorter"));
  $("friendlier").addEventListener("click", () => rewrite("friendlier"));
  $("regenerate").addEventListener("click", async () => {
    if (state.suggestion) await feedback({ outcome: "ignored", comment: "regenerated" });
    await draft();
  });
  $("not-helpful").addEventListener("click", () => { $("reason-form").hidden = false; $("reason").focus(); });
  $("reason-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (await feedback({ outcome: "rejected", reason: $("reason").value, comment: $("comment").value || null })) {
      $("reason-form").hidden = true;
      idle("Thanks: feedback recorded.");
    }
  });
  window.copilotSidebar = { state, start };
  start();
})();
