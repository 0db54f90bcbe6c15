// The admin page: every action is a call to /admin/api with the admin's bearer token.
// While a job runs the page looks every 1.5 s, otherwise every 10 s; the end of a job is
// announced in the status region, for screen readers too.
(function () {
  "use strict";
  var API = "/admin/api";
  var BUSY = 1500;
  var IDLE = 10000;
  var $ = function (id) { return document.getElementById(id); };
  var token = function () { return sessionStorage.getItem("adminToken") || ""; };
  var known = {};  // job id -> last state seen
  var timer = null;

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
        if (!response.ok) { throw new Error(data.detail || ("Erreur " + response.status)); }
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

  // A button whose accessible name adds, out of sight, which job it acts on.
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

  function progress(job) {
    var percent = Math.round(job.progress * 100);
    var wrapper = document.createElement("span");
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = percent;
    bar.setAttribute("aria-label", "Avancement du travail " + job.id);
    bar.className = "fr-mr-1w";
    wrapper.appendChild(bar);
    wrapper.appendChild(document.createTextNode(percent + " %"));
    return wrapper;
  }

  var STATES = { created: "créé", running: "en cours", stopping: "arrêt demandé",
    stopped: "arrêté", succeeded: "terminé", failed: "en échec" };
  var ACTIVE = ["created", "running", "stopping"];

  function failed(e) { say(e.message, "error"); }

  function showErrors(job) {
    call("GET", "/jobs/" + job.id + "/errors?limit=200").then(function (page) {
      var box = $("erreurs");
      box.textContent = "";
      var section = document.createElement("section");
      section.setAttribute("aria-labelledby", "titre-erreurs");
      var h = document.createElement("h3");
      h.className = "fr-h6 fr-mt-2w";
      h.id = "titre-erreurs";
      h.tabIndex = -1;
      h.textContent = "Lignes non migrées du travail " + job.id;
      section.appendChild(h);
      var list = document.createElement("ul");
      page.items.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = "Ligne " + item.ligne + " (" + item.numero + ") : " + item.resultat +
          (item.motif ? " – " + item.motif : "");
        list.appendChild(li);
      });
      if (!page.items.length) {
        var none = document.createElement("li");
        none.textContent = "Aucune.";
        list.appendChild(none);
      }
      section.appendChild(list);
      if (page.next_after !== null) {
        var more = document.createElement("p");
        more.textContent = "Les 200 premières seulement : le rapport complet s'obtient par " +
          "l'API (/jobs/" + job.id + "/report).";
        section.appendChild(more);
      }
      box.appendChild(section);
      h.focus();
    }).catch(failed);
  }

  function announce(job) {
    var before = known[job.id];
    known[job.id] = job.state;
    if (before && ACTIVE.indexOf(before) >= 0 && ACTIVE.indexOf(job.state) < 0) {
      say("Travail " + job.id + " " + (STATES[job.state] || job.state) + " : " + job.migrated +
        " migrés, " + job.rejected + " rejetés sur " + job.read + " lignes.",
        job.state === "succeeded" ? "success" : "warning", true);
    }
  }

  function schedule(busy) {
    clearTimeout(timer);
    timer = setTimeout(refresh, busy ? BUSY : IDLE);
  }

  function showJobs(data) {
    var body = $("travaux");
    body.textContent = "";
    var busy = false;
    data.items.forEach(function (job) {
      announce(job);
      busy = busy || ACTIVE.indexOf(job.state) >= 0 && job.state !== "created";
      var row = document.createElement("tr");
      cell(row, job.id);
      cell(row, job.source_name + (job.dry_run ? " (simulation)" : ""));
      cell(row, STATES[job.state] || job.state);
      cell(row, progress(job));
      [job.migrated, job.ignored_doublon, job.ignored_clos, job.ignored_deja_migre,
        job.updated, job.rejected].forEach(function (n) { cell(row, n); });
      var actions = cell(row, "");
      var which = "du travail " + job.id;
      if (job.state === "running") {
        actions.appendChild(button("Arrêter", which, function () {
          call("POST", "/jobs/" + job.id + "/stop").then(refresh).catch(failed);
        }));
      }
      if (["stopped", "failed", "created"].indexOf(job.state) >= 0) {
        actions.appendChild(button("Reprendre", which, function () {
          call("POST", "/jobs/" + job.id + "/resume").then(refresh).catch(failed);
        }));
      }
      actions.appendChild(button("Lignes non migrées", which, function () { showErrors(job); }));
      body.appendChild(row);
    });
    if (!data.items.length) {
      var empty = document.createElement("tr");
      cell(empty, "Aucun travail.").colSpan = 11;
      body.appendChild(empty);
    }
    return busy;
  }

  function showCutover(panel) {
    $("c-migres").textContent = panel.migrated;
    $("c-masse").textContent = panel.migrated_bulk;
    $("c-paresseux").textContent = panel.migrated_lazy;
    $("c-attente").textContent = panel.pending;
    $("c-echecs").textContent = panel.failed;
    var radio = $("mode-" + panel.mode);
    if (radio && !document.querySelector("input[name=mode]:checked")) { radio.checked = true; }
    var body = $("trafic");
    body.textContent = "";
    panel.legacy_traffic.forEach(function (t) {
      var row = document.createElement("tr");
      cell(row, t.day); cell(row, t.result); cell(row, t.count);
      body.appendChild(row);
    });
    if (!panel.legacy_traffic.length) {
      var empty = document.createElement("tr");
      cell(empty, "Aucune requête.").colSpan = 3;
      body.appendChild(empty);
    }
  }

  function emptyRow(body, text, columns) {
    var empty = document.createElement("tr");
    cell(empty, text).colSpan = columns;
    body.appendChild(empty);
  }

  function showReadiness(data) {
    $("pret-verdict").textContent = data.ready
      ? "Oui : chaque critère est atteint, l'ancien service peut être éteint."
      : "Non : au moins un critère n'est pas atteint.";
    var body = $("pret");
    body.textContent = "";
    data.lines.forEach(function (line) {
      var row = document.createElement("tr");
      cell(row, line.label);
      cell(row, line.figure === null ? "aucun chiffre" : String(line.figure));
      cell(row, String(line.threshold));
      var badge = document.createElement("p");
      badge.className = "fr-badge fr-badge--sm fr-badge--" + (line.ok ? "success" : "error");
      badge.textContent = line.ok ? "atteint" : "non atteint";
      cell(row, badge);
      body.appendChild(row);
    });
  }

  function showParallelRun(data) {
    $("parallele-resume").textContent = data.compared + " réponse(s) comparée(s), " +
      data.mismatches + " différente(s)" + (data.mismatch_rate === null ? "" :
        " (taux " + (100 * data.mismatch_rate).toFixed(2) + " %)") + ", " +
      data.unavailable + " sans réponse de l'ancien service, " + data.dropped +
      " abandonnée(s) (file pleine).";
    var body = $("differences");
    body.textContent = "";
    data.last_mismatches.forEach(function (m) {
      var row = document.createElement("tr");
      [m.at, m.kind, m.numero, m.field, m.here, m.legacy].forEach(function (v) {
        cell(row, v === null ? "absent" : v);
      });
      body.appendChild(row);
    });
    if (!data.last_mismatches.length) { emptyRow(body, "Aucune différence.", 6); }
  }

  function showClients(data) {
    var body = $("clients");
    body.textContent = "";
    data.items.forEach(function (c) {
      var row = document.createElement("tr");
      var requests = Object.keys(c.requests).sort().map(function (op) {
        return op + " : " + c.requests[op];
      }).join(", ");
      [c.channel, c.user_agent, c.network, c.soap_version || "–", c.first_seen, c.last_seen,
        requests, c.failures, c.status_label].forEach(function (v) { cell(row, v); });
      body.appendChild(row);
    });
    if (!data.items.length) { emptyRow(body, "Aucun client.", 9); }
    var day = data.notice_date.split("-");
    $("clients-avis").textContent = "Avis de fermeture daté du " + day[2] + "/" + day[1] +
      "/" + day[0] + " : un client vu depuis l'a reçu ; arrêté = aucune requête depuis 7 jours.";
  }

  function showBrownouts(data) {
    $("annonce").textContent = data.announcement || "Aucune interruption annoncée.";
    var body = $("interruptions");
    body.textContent = "";
    data.items.forEach(function (w) {
      var row = document.createElement("tr");
      cell(row, new Date(w.starts_at).toLocaleString("fr-FR"));
      cell(row, new Date(w.ends_at).toLocaleString("fr-FR"));
      cell(row, Math.round(100 * w.share) + " %");
      cell(row, button("Retirer", "l'interruption " + w.id, function () {
        call("DELETE", "/brownouts/" + w.id).then(function () {
          say("Interruption retirée.", "success");
          refresh();
        }).catch(failed);
      }));
      body.appendChild(row);
    });
    if (!data.items.length) { emptyRow(body, "Aucune interruption programmée.", 4); }
  }

  function refresh() {
    if (!token()) { return; }
    call("GET", "/jobs").then(function (data) {
      schedule(showJobs(data));
    }).catch(function (e) { failed(e); schedule(false); });
    call("GET", "/cutover").then(showCutover).catch(function () { /* already said */ });
    call("GET", "/readiness").then(showReadiness).catch(function () { /* already said */ });
    call("GET", "/parallel-run").then(showParallelRun).catch(function () { /* already said */ });
    call("GET", "/clients").then(showClients).catch(function () { /* already said */ });
    call("GET", "/brownouts").then(showBrownouts).catch(function () { /* already said */ });
  }

  $("form-jeton").addEventListener("submit", function (event) {
    event.preventDefault();
    sessionStorage.setItem("adminToken", $("jeton").value.trim());
    $("jeton").value = "";
    say("Jeton enregistré pour cet onglet.", "success");
    refresh();
  });
  $("form-import").addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData();
    data.append("fichier", $("fichier").files[0]);
    data.append("dry_run", $("dry_run").checked ? "true" : "false");
    call("POST", "/jobs", data).then(function (job) {
      known[job.id] = job.state;
      say("Travail " + job.id + " lancé (" + job.lines + " lignes).", "success");
      refresh();
    }).catch(failed);
  });
  $("form-bascule").addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = document.querySelector("input[name=mode]:checked");
    if (!chosen) { return; }
    call("PUT", "/cutover", { mode: chosen.value }).then(function () {
      say("Mode de bascule appliqué.", "success");
      refresh();
    }).catch(failed);
  });
  $("form-interruption").addEventListener("submit", function (event) {
    event.preventDefault();
    var planned = {
      starts_at: new Date($("debut").value).toISOString(),
      ends_at: new Date($("fin").value).toISOString(),
      share: parseFloat($("part").value)
    };
    call("POST", "/brownouts", planned).then(function () {
      say("Interruption programmée.", "success");
      refresh();
    }).catch(failed);
  });
  $("form-annuler").addEventListener("submit", function (event) {
    event.preventDefault();
    var numero = $("numero").value.trim();
    call("POST", "/accounts/" + encodeURIComponent(numero) + "/revert").then(function (r) {
      say("Migration annulée (" + r.codes_removed + " code(s) retiré(s)).", "success");
      refresh();
    }).catch(failed);
  });
  refresh();
}());
