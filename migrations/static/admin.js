// The admin page: every action is a call to /admin/api with the admin's bearer token.
// While a job runs the page looks every 1.5 s, otherwise every 10 s, and again as soon as an
// action ends; the end of a job is announced in the status region, for screen readers too.
// A revert and a change of cutover mode are confirmed in a dialog that names what changes.
// Texts come translated from the page (`#textes-admin`, built by migrations/admin/page.py).
(function () {
  "use strict";
  var API = "/admin/api";
  var BUSY = 1500;
  var IDLE = 10000;
  var ACTIVE = ["created", "running", "stopping"];
  var $ = function (id) { return document.getElementById(id); };
  var WORDS = JSON.parse($("textes-admin").textContent);
  var TEXTS = WORDS.textes;
  var token = function () { return sessionStorage.getItem("adminToken") || ""; };
  var known = {};  // job id -> last state seen
  var listed = null;  // the job whose lines not migrated are shown
  var panel = null;  // the cutover panel last received
  var readiness = null;  // the go/no-go last received
  var modeTouched = false;  // a mode was picked and not applied yet
  var timer = null;
  var rounds = 0;  // refreshes started: only the latest one's answers are shown

  // "%(name)s" replaced by values[name], "%%" by "%".
  function format(text, values) {
    return text.replace(/%(?:\((\w+)\)s|%)/g, function (_all, name) {
      return name === undefined ? "%" : String(values[name]);
    });
  }

  function t(key, values) { return format(TEXTS[key], values || {}); }

  // Texts with a singular and a plural form; `n` is given as "%(n)s".
  function tn(key, n, values) {
    var one = n === 1 || (n === 0 && WORDS.zero_singulier);
    var all = { n: n };
    Object.keys(values || {}).forEach(function (name) { all[name] = values[name]; });
    return format(TEXTS[key][one ? 0 : 1], all);
  }

  function when(iso) { return new Date(iso).toLocaleString(WORDS.format_date); }

  function active(state) { return ACTIVE.indexOf(state) >= 0; }

  // The DSFR's display rules outweigh the `hidden` attribute; its `fr-hidden` class does not.
  function shown(element, visible) { element.classList.toggle("fr-hidden", !visible); }

  function alertBox(text, kind) {
    var alert = document.createElement("div");
    alert.className = "fr-alert fr-alert--sm fr-mt-2w fr-alert--" + (kind || "info");
    var p = document.createElement("p");
    p.textContent = text;
    alert.appendChild(p);
    return alert;
  }

  // `keep`: add to what is said already instead of replacing it.
  function say(text, kind, keep) {
    var box = $("message");
    if (!keep) { box.textContent = ""; }
    if (text) { box.appendChild(alertBox(text, kind)); }
  }

  function failed(e) { say(e.message, "error"); }

  function call(method, path, body) {
    var options = { method: method, headers: { "Authorization": "Bearer " + token() } };
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(API + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          throw new Error(data.detail || t("erreur_http", { statut: response.status }));
        }
        return data;
      });
    });
  }

  function cell(row, content) {
    var td = document.createElement("td");
    if (content instanceof Node) { td.appendChild(content); } else { td.textContent = content; }
    row.appendChild(td);
    return td;
  }

  function emptyRow(body, text, columns) {
    var empty = document.createElement("tr");
    cell(empty, text).colSpan = columns;
    body.appendChild(empty);
  }

  // A button whose accessible name adds, out of sight, what it acts on.
  function button(label, hidden, handler) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "fr-btn fr-btn--sm fr-btn--secondary fr-mr-1w fr-mb-1w";
    b.appendChild(document.createTextNode(label));
    var more = document.createElement("span");
    more.className = "fr-sr-only";
    more.textContent = " " + hidden;
    b.appendChild(more);
    b.addEventListener("click", handler);
    return b;
  }

  function badge(text, kind) {
    var p = document.createElement("p");
    p.className = "fr-badge fr-badge--sm fr-badge--" + kind;
    p.textContent = text;
    return p;
  }

  // -- the agent ----------------------------------------------------------------------------
  // The header's tools are copied by the DSFR into the mobile menu: both copies are updated,
  // found by their data attributes rather than their ids.

  function showAgent(who) {
    document.querySelectorAll("[data-agent]").forEach(function (item) { shown(item, who); });
    document.querySelectorAll("[data-agent-nom]").forEach(function (name) {
      name.textContent = who ? t("jeton_agent", { nom: who.name }) : "";
    });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-oublier-jeton]")) {
      sessionStorage.removeItem("adminToken");
      window.location.reload();
    }
  });

  // -- the confirmation dialog ----------------------------------------------------------------

  var dialog = $("confirmation");
  var pending = null;  // {run, cancel, typed}: what the open dialog would do
  var opener = null;  // what had the focus when it opened, and has it back when it closes

  // The DSFR's modal once its script has started, else the browser's own dialog.
  function modal() {
    var api = window.dsfr ? window.dsfr(dialog) : null;
    return api && api.modal ? api.modal : null;
  }

  function closeDialog() {
    var m = modal();
    if (m) { m.conceal(); } else if (dialog.open) { dialog.close(); }
  }

  function openDialog() {
    var m = modal();
    if (m) {
      m.disclose();
    } else {
      dialog.classList.add("fr-modal--opened");
      dialog.showModal();
    }
  }

  // Closed without confirming (the keep button, "Fermer", Escape, the backdrop), nothing is
  // done and the page shows again what is in force. The focus goes back to the button that
  // opened the dialog, after the DSFR's own try (which counts focusable elements, and the
  // tables may have been redrawn meanwhile).
  function closed() {
    dialog.classList.remove("fr-modal--opened");
    var left = pending;
    pending = null;
    if (left && left.cancel) { left.cancel(); }
    var back = opener;
    opener = null;
    if (back && document.body.contains(back)) {
      setTimeout(function () { back.focus(); }, 0);
    }
  }

  dialog.addEventListener("dsfr.conceal", closed);
  dialog.addEventListener("close", closed);
  // The DSFR leaves Escape to a text field that has the focus; here it closes the dialog.
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && pending) {
      event.preventDefault();
      closeDialog();
    }
  });

  function typedError(text) {
    var group = $("confirmation-saisie-groupe");
    group.classList.toggle("fr-input-group--error", Boolean(text));
    shown($("confirmation-erreur"), text);
    $("confirmation-erreur").textContent = text || "";
  }

  // options: title, paragraphs, typed (a text to type again, or null), confirm, keep, run,
  // cancel.
  function confirmThen(options) {
    $("confirmation-titre").textContent = options.title;
    var body = $("confirmation-texte");
    body.textContent = "";
    options.paragraphs.forEach(function (text) {
      var p = document.createElement("p");
      p.textContent = text;
      body.appendChild(p);
    });
    var group = $("confirmation-saisie-groupe");
    shown(group, options.typed);
    $("confirmation-saisie").value = "";
    $("confirmation-consigne").textContent = options.typed
      ? t("saisir_pour_confirmer", { texte: options.typed }) : "";
    typedError(null);
    $("confirmation-oui").textContent = options.confirm;
    $("confirmation-non").textContent = options.keep;
    pending = options;
    opener = document.activeElement;
    openDialog();
  }

  function same(a, b) {
    return a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();
  }

  $("confirmation-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!pending) { return; }
    if (pending.typed && !same($("confirmation-saisie").value, pending.typed)) {
      typedError(t("saisie_differente", { texte: pending.typed }));
      $("confirmation-saisie").focus();
      return;
    }
    var confirmed = pending;
    pending = null;
    closeDialog();
    confirmed.run();
  });
  $("confirmation-non").addEventListener("click", closeDialog);

  // -- jobs ------------------------------------------------------------------------------------

  function outcome(code, dryRun) {
    var words = WORDS.resultats[code];
    return words ? words[dryRun ? 1 : 0] : code;
  }

  function state(job) { return WORDS.etats[job.state] || job.state; }

  function summary(job) {
    var dry = job.dry_run;
    return t(dry ? "fin_simulation" : "fin_travail", {
      id: job.id, etat: state(job),
      migres: tn(dry ? "n_seraient_migres" : "n_migres", job.migrated),
      rejetes: tn(dry ? "n_seraient_rejetes" : "n_rejetes", job.rejected),
      lignes: tn("n_lignes", job.read)
    });
  }

  function progress(job) {
    var percent = Math.round(job.progress * 100);
    var wrapper = document.createElement("span");
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = percent;
    bar.setAttribute("aria-label", t(job.dry_run ? "avancement_simulation" : "avancement",
      { id: job.id }));
    bar.className = "fr-mr-1w";
    wrapper.appendChild(bar);
    wrapper.appendChild(document.createTextNode(percent + " %"));
    return wrapper;
  }

  // `focus`: move the focus to the list (asked for by the agent), not when it is refreshed.
  function showErrors(job, focus) {
    listed = job.id;
    return call("GET", "/jobs/" + job.id + "/errors?limit=200").then(function (page) {
      var box = $("erreurs");
      box.textContent = "";
      var section = document.createElement("section");
      section.setAttribute("aria-labelledby", "titre-erreurs");
      var h = document.createElement("h3");
      h.className = "fr-h6 fr-mt-2w";
      h.id = "titre-erreurs";
      h.tabIndex = -1;
      h.textContent = t(job.dry_run ? "lignes_simulation_titre" : "lignes_titre", { id: job.id });
      section.appendChild(h);
      var list = document.createElement("ul");
      page.items.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = t(item.motif ? "ligne_resultat_motif" : "ligne_resultat", {
          ligne: item.ligne, numero: item.numero, resultat: outcome(item.resultat, job.dry_run),
          motif: item.motif
        });
        list.appendChild(li);
      });
      if (!page.items.length) {
        var none = document.createElement("li");
        none.textContent = t("aucune_ligne");
        list.appendChild(none);
      }
      section.appendChild(list);
      if (page.next_after !== null) {
        var more = document.createElement("p");
        more.textContent = t("deux_cents_premieres", { adresse: API + "/jobs/" + job.id + "/report" });
        section.appendChild(more);
      }
      box.appendChild(section);
      if (focus) { h.focus(); }
    }).catch(failed);
  }

  function announce(job) {
    var before = known[job.id];
    known[job.id] = job.state;
    if (before === job.state) { return; }
    if (before && active(before) && !active(job.state)) {
      say(summary(job), job.state === "succeeded" ? "success" : "warning", true);
    }
    if (listed === job.id) { showErrors(job, false); }
  }

  function schedule(busy) {
    clearTimeout(timer);
    timer = setTimeout(refresh, busy ? BUSY : IDLE);
  }

  function jobAction(path, job) {
    return function () { call("POST", "/jobs/" + job.id + path).then(refresh).catch(failed); };
  }

  function showJobs(data) {
    var body = $("travaux");
    body.textContent = "";
    var busy = false;
    data.items.forEach(function (job) {
      announce(job);
      busy = busy || active(job.state) && job.state !== "created";
      var row = document.createElement("tr");
      cell(row, job.id);
      var file = cell(row, job.source_name);
      if (job.dry_run) { file.appendChild(badge(t("badge_simulation"), "info")); }
      cell(row, state(job));
      cell(row, progress(job));
      [job.migrated, job.ignored_doublon, job.ignored_clos, job.ignored_deja_migre,
        job.updated, job.rejected].forEach(function (n) { cell(row, n); });
      var actions = cell(row, "");
      var which = t("du_travail", { id: job.id });
      if (job.state === "running") {
        actions.appendChild(button(t("arreter"), which, jobAction("/stop", job)));
      }
      if (["stopped", "failed", "created"].indexOf(job.state) >= 0) {
        actions.appendChild(button(t("reprendre"), which, jobAction("/resume", job)));
      }
      actions.appendChild(button(t(job.dry_run ? "lignes_simulation" : "lignes"), which,
        function () { showErrors(job, true); }));
      body.appendChild(row);
    });
    if (!data.items.length) { emptyRow(body, t("aucun_travail"), 11); }
    return busy;
  }

  // -- the cutover ---------------------------------------------------------------------------

  // What legacy requests for files not migrated meet now: without a legacy backend it is
  // never asked, whatever mode is recorded.
  function inForce(p) { return p.legacy_backend_configured ? p.mode : "off"; }

  function modeName(mode) { return WORDS.modes[mode].nom; }

  function showMode(p) {
    var effective = inForce(p);
    var text = t("mode_en_vigueur", { mode: modeName(effective) });
    if (!p.legacy_backend_configured) {
      var recordedOff = p.mode === "off";
      text += " " + t(recordedOff ? "sans_ancien_service" : "sans_ancien_service_enregistre",
        { enregistre: modeName(p.mode) });
    }
    $("mode-effectif").textContent = text;
    document.querySelectorAll("input[name=mode]").forEach(function (radio) {
      radio.disabled = !p.legacy_backend_configured && radio.value !== "off";
      if (!modeTouched) { radio.checked = radio.value === effective; }
    });
    shown($("modes-sans-ancien-service"), !p.legacy_backend_configured);
  }

  function showCutover(p) {
    panel = p;
    $("c-migres").textContent = p.migrated;
    $("c-masse").textContent = p.migrated_bulk;
    $("c-paresseux").textContent = p.migrated_lazy;
    $("c-attente").textContent = p.pending;
    $("c-echecs").textContent = p.failed;
    showMode(p);
    var body = $("trafic");
    body.textContent = "";
    p.legacy_traffic.forEach(function (traffic) {
      var row = document.createElement("tr");
      cell(row, traffic.day);
      cell(row, WORDS.trafic[traffic.result] || traffic.result);
      cell(row, traffic.count);
      body.appendChild(row);
    });
    if (!p.legacy_traffic.length) { emptyRow(body, t("aucune_requete"), 3); }
  }

  function showReadiness(data) {
    readiness = data;
    $("pret-verdict").textContent = t(data.ready ? "pret_oui" : "pret_non");
    var body = $("pret");
    body.textContent = "";
    data.lines.forEach(function (line) {
      var row = document.createElement("tr");
      cell(row, WORDS.criteres[line.name] || line.label);
      cell(row, line.figure === null ? t("aucun_chiffre") : String(line.figure));
      cell(row, String(line.threshold));
      cell(row, badge(t(line.ok ? "atteint" : "non_atteint"), line.ok ? "success" : "error"));
      body.appendChild(row);
    });
  }

  function showParallelRun(data) {
    $("parallele-resume").textContent = t("parallele_resume", {
      comparees: data.compared, differentes: data.mismatches,
      taux: data.mismatch_rate === null ? "" :
        t("parallele_taux", { taux: (100 * data.mismatch_rate).toFixed(2) + " %" }),
      indisponibles: data.unavailable, abandonnees: data.dropped
    });
    var body = $("differences");
    body.textContent = "";
    data.last_mismatches.forEach(function (m) {
      var row = document.createElement("tr");
      [m.at, m.kind, m.numero, m.field, m.here, m.legacy].forEach(function (v) {
        cell(row, v === null ? t("absent") : v);
      });
      body.appendChild(row);
    });
    if (!data.last_mismatches.length) { emptyRow(body, t("aucune_difference"), 6); }
  }

  function showClients(data) {
    var body = $("clients");
    body.textContent = "";
    data.items.forEach(function (c) {
      var row = document.createElement("tr");
      var requests = Object.keys(c.requests).sort().map(function (op) {
        return op + " : " + c.requests[op];
      }).join(", ");
      [WORDS.canaux[c.channel] || c.channel, c.user_agent, c.network, c.soap_version || "–",
        c.first_seen, c.last_seen, requests, c.failures, WORDS.statuts_clients[c.status] || c.status_label
      ].forEach(function (v) { cell(row, v); });
      body.appendChild(row);
    });
    if (!data.items.length) { emptyRow(body, t("aucun_client"), 9); }
    var day = data.notice_date.split("-");
    $("clients-avis").textContent = t("avis_clients", {date: day[2] + "/" + day[1] + "/" + day[0]});
  }

  function showBrownouts(data) {
    $("annonce").textContent = data.announcement || t("aucune_annonce");
    var body = $("interruptions");
    body.textContent = "";
    data.items.forEach(function (w) {
      var row = document.createElement("tr");
      cell(row, when(w.starts_at));
      cell(row, when(w.ends_at));
      cell(row, Math.round(100 * w.share) + " %");
      cell(row, button(t("retirer"), t("l_interruption", { id: w.id }), function () {
        call("DELETE", "/brownouts/" + w.id).then(function () {
          say(t("interruption_retiree"), "success");
          return refresh();
        }).catch(failed);
      }));
      body.appendChild(row);
    });
    if (!data.items.length) { emptyRow(body, t("aucune_interruption"), 4); }
  }

  // The jobs first, then the figures drawn from them: figures never older than the list.
  // An answer to an older refresh (one the timer started while an action ran) is dropped.
  // Resolves once everything shown is up to date.
  function refresh() {
    if (!token()) { return Promise.resolve(); }
    clearTimeout(timer);
    var round = ++rounds;
    var latest = function (show) {
      return function (data) { return round === rounds ? show(data) : undefined; };
    };
    var quiet = function () { /* the jobs' failure says it already */ };
    var show = function (path, panel) {
      return call("GET", path).then(latest(panel)).catch(quiet);
    };
    return call("GET", "/jobs").then(latest(function (data) {
      schedule(showJobs(data));
      return Promise.all([show("/cutover", showCutover), show("/readiness", showReadiness),
        show("/parallel-run", showParallelRun), show("/clients", showClients),
        show("/brownouts", showBrownouts)]);
    })).catch(function (e) {
      if (round === rounds) { failed(e); schedule(false); }
    });
  }

  // -- actions ---------------------------------------------------------------------------------

  $("form-jeton").addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = $("jeton").value.trim();
    $("jeton").value = "";
    sessionStorage.setItem("adminToken", typed);
    call("GET", "/token").then(function (who) {
      showAgent(who);
      say(t("jeton_enregistre", { nom: who.name }), "success");
      return refresh();
    }).catch(function (e) {
      sessionStorage.removeItem("adminToken");
      showAgent(null);
      failed(e);
    });
  });

  $("form-import").addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData();
    data.append("fichier", $("fichier").files[0]);
    data.append("dry_run", $("dry_run").checked ? "true" : "false");
    call("POST", "/jobs", data).then(function (job) {
      known[job.id] = job.state;
      say(t(job.dry_run ? "simulation_lancee" : "travail_lance",
        { id: job.id, lignes: tn("n_lignes", job.lines) }), "success");
      return refresh();
    }).catch(failed);
  });

  document.querySelectorAll("input[name=mode]").forEach(function (radio) {
    radio.addEventListener("change", function () { modeTouched = true; });
  });

  function cutoverParagraphs(mode) {
    var paragraphs = [t("mode_actuel", { mode: modeName(inForce(panel)) })];
    if (inForce(panel) !== panel.mode) {
      paragraphs.push(t("mode_enregistre_sans_effet", { mode: modeName(panel.mode) }));
    }
    paragraphs.push(WORDS.modes[mode].consequence);
    if (mode === "off") {
      paragraphs.push(t("chiffres_avant_coupure", {
        attente: tn("n_lignes_en_attente", panel.pending),
        rejetees: tn("n_lignes_rejetees", panel.failed)
      }));
      if (readiness) { paragraphs.push(t(readiness.ready ? "pret_oui" : "pret_non")); }
    }
    return paragraphs;
  }

  $("form-bascule").addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = document.querySelector("input[name=mode]:checked");
    if (!chosen || !panel) { return; }
    var mode = chosen.value;
    var name = modeName(mode);
    if (mode === panel.mode) {
      modeTouched = false;
      say(t("mode_deja", { mode: name }), "info");
      return;
    }
    confirmThen({
      title: t("confirmer_mode_titre", { mode: name }),
      paragraphs: cutoverParagraphs(mode),
      typed: mode === "off" ? name : null,
      confirm: t("confirmer_mode", { mode: name }),
      keep: t("garder_mode"),
      run: function () {
        call("PUT", "/cutover", { mode: mode, confirmation: mode }).then(function () {
          modeTouched = false;
          say(t("mode_applique", { mode: name }), "success");
          return refresh();
        }).catch(failed);
      },
      cancel: function () {
        modeTouched = false;
        if (panel) { showMode(panel); }
      }
    });
  });

  $("form-interruption").addEventListener("submit", function (event) {
    event.preventDefault();
    var planned = {
      starts_at: new Date($("debut").value).toISOString(),
      ends_at: new Date($("fin").value).toISOString(),
      share: parseFloat($("part").value)
    };
    call("POST", "/brownouts", planned).then(function () {
      say(t("interruption_programmee"), "success");
      return refresh();
    }).catch(failed);
  });

  function revertParagraphs(account, job) {
    var paragraphs = [];
    if (account.source === "bulk" && job) {
      paragraphs.push(t("migre_en_masse", { date: when(account.migrated_at), travail: job.id,
        fichier: job.source_name, ligne: account.line }));
      paragraphs.push(t("chiffres_du_travail", {
        migres: tn("n_migres", job.migrated), rejetes: tn("n_rejetes", job.rejected),
        lignes: tn("n_lignes", job.read)
      }));
    } else if (account.source === "bulk") {
      paragraphs.push(t("migre_en_masse_sans_travail", { date: when(account.migrated_at) }));
    } else {
      paragraphs.push(t("migre_a_la_premiere_utilisation", { date: when(account.migrated_at) }));
    }
    paragraphs.push(t(account.code_imported ? "code_importe" : "code_non_importe"));
    paragraphs.push(t("consequence_annulation"));
    return paragraphs;
  }

  $("form-annuler").addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = $("numero").value.trim();
    if (!typed) { return; }
    call("GET", "/accounts/" + encodeURIComponent(typed)).then(function (account) {
      var job = account.job_id === null ? Promise.resolve(null)
        : call("GET", "/jobs/" + account.job_id).catch(function () { return null; });
      return job.then(function (found) {
        confirmThen({
          title: t("confirmer_annulation_titre", { numero: account.numero }),
          paragraphs: revertParagraphs(account, found),
          typed: null,
          confirm: t("confirmer_annulation", { numero: account.numero }),
          keep: t("garder_migration"),
          run: function () {
            call("POST", "/accounts/" + encodeURIComponent(account.numero) + "/revert",
              { confirmation: account.numero }).then(function (r) {
              $("numero").value = "";
              say(t("migration_annulee", { numero: r.numero,
                codes: tn("n_codes_retires", r.codes_removed) }), "success");
              return refresh();
            }).catch(failed);
          },
          cancel: null
        });
      });
    }).catch(failed);
  });

  if (token()) {
    call("GET", "/token").then(showAgent).catch(function () { showAgent(null); });
  }
  refresh();
}());
