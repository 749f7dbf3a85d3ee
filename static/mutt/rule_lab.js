/* Rule lab on the rule change form: test the unsaved form against a sample message, backtest it. */
(function () {
  "use strict";
  // Server values come from data attributes (no inline script: the content security policy forbids it).
  const config = document.getElementById("rule-lab-config").dataset;
  const form = document.getElementById(config.formId);
  const objectId = config.objectId;
  const urls = { test: config.testUrl, backtest: config.backtestUrl, status: config.backtestUrl };

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    return node;
  }
  function table(rows) {
    const t = el("table");
    rows.forEach(([k, v]) => { const tr = el("tr"); tr.append(el("th", k), el("td", v)); t.append(tr); });
    return t;
  }
  function why(rule) {
    const m = rule.match || {};
    let text = rule.match_type;
    if (m.substring !== undefined) text += ` "${m.substring}" at ${m.span[0]}-${m.span[1]}`;
    if (m.pattern !== undefined) text += ` /${m.pattern}/ matched "${m.matched_text}" at ${m.span[0]}-${m.span[1]}`;
    if (m.rule_oid !== undefined) text += ` ${m.rule_oid} (${m.arcs_matched} arcs of ${m.event_oid})`;
    if (rule.severity) text += `; ${rule.severity.condition}`;
    return `#${rule.rule_id}${rule.draft ? " (this form)" : ""} priority ${rule.priority}: ${text}`;
  }
  async function post(url) {
    const data = new FormData(form);
    data.set("_lab_object_id", objectId);
    const response = await fetch(url, { method: "POST", body: data, credentials: "same-origin" });
    return [response.status, await response.json()];
  }
  function showErrors(box, body) {
    box.replaceChildren(el("p", body.detail, { class: "errornote" }));
    if (body.errors) box.append(el("pre", JSON.stringify(body.errors, null, 2), { class: "rule-lab-errors" }));
  }

  document.getElementById("rule-lab-test-button").addEventListener("click", async () => {
    const box = document.getElementById("rule-lab-test-result");
    box.replaceChildren(el("p", "Testing…"));
    const [status, body] = await post(urls.test);
    if (status !== 200) return showErrors(box, body);
    const r = body.result;
    if (r.error) return box.replaceChildren(el("p", r.error, { class: "errornote" }));
    const d = r.decision;
    box.replaceChildren(table([
      ["Winner", r.winner ? why(r.winner) : "no rule matched (default handling)"],
      ["Runner-ups", r.runners_up.length ? r.runners_up.map(why).join("\n") : "none"],
      ["Host", `${r.host.hostname}: ${r.host.is_dev ? "development host" : "production"}` +
               (r.host.team_override ? `, team override ${r.host.team_override}` : "")],
      ["Handling", `${d.handling} (from ${r.host.handling_from})`],
      ["Team", `${d.team} (from ${r.host.team_from})`],
      ["Forwarded to Moogsoft", d.forwarded ? "yes" : "no"],
    ]));
    box.firstChild.id = "rule-lab-test-table";
    if (r.moog_payload) box.append(el("pre", JSON.stringify(r.moog_payload, null, 2), { id: "rule-lab-moog-payload" }));
  });

  function renderReport(box, result) {
    const rows = [
      ["Events scanned", result.scanned],
      ["Would match (this rule)", result.would_match],
      ["Decisions that would change", result.changed],
    ];
    result.changes.forEach((c) => rows.push([
      "Change",
      `${c.count} × ${c.from.handling}/${c.from.team}/${c.from.forwarded ? "forwarded" : "not forwarded"} → ` +
      `${c.to.handling}/${c.to.team}/${c.to.forwarded ? "forwarded" : "not forwarded"}`,
    ]));
    result.per_host.slice(0, 10).forEach((h) => rows.push(["Host", `${h.hostname}: ${h.changed} changed`]));
    result.per_rule.forEach((p) => rows.push(["Rule", `#${p.rule_id === null ? "none" : p.rule_id}: lost ${p.lost}, gained ${p.gained}`]));
    const t = table(rows);
    t.id = "rule-lab-backtest-table";
    box.replaceChildren(t);
  }

  document.getElementById("rule-lab-backtest-button").addEventListener("click", async () => {
    const box = document.getElementById("rule-lab-backtest-result");
    const bar = document.getElementById("rule-lab-backtest-progress");
    const state = document.getElementById("rule-lab-backtest-state");
    const [status, body] = await post(urls.backtest);
    if (status !== 202) return showErrors(box, body);
    bar.hidden = false;
    const poll = async () => {
      const response = await fetch(`${urls.status}${body.id}/`, { credentials: "same-origin" });
      const b = await response.json();
      bar.value = b.percent;
      state.textContent = `${b.state}: ${b.events_scanned} events scanned (${b.percent} %)`;
      if (b.state === "done") return renderReport(box, b.result);
      if (b.state === "failed" || b.state === "cancelled") return box.replaceChildren(el("p", b.error || b.state, { class: "errornote" }));
      setTimeout(poll, 500);
    };
    poll();
  });
})();
