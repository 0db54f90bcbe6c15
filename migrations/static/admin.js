// The admin page: every action is a call to /admin/api with the admin's bearer token.
(function () {
  "use strict";
  var API = "/admin/api";
  var $ = function (id) { return document.getElementById(id); };
  var token = function () { return sessionStorage.getItem("adminToken") || ""; };

  function say(text, kind) {
    var box = $("message");
    box.textContent = "";
    if (!text) { return; }
    var alert = document.createElement("div");
    alert.className = "fr-alert fr-alert--sm fr-mt-2w fr-alert--" + (kind || "info");
    var p = document.createElement("p");
    p.textContent = text;
    alert.appendChild(p);
    box.appendChild(alert);
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

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function button(label, handler) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "fr-btn fr-btn--sm fr-btn--secondary fr-mr-1w";
    b.textContent = label;
    b.addEventListener("click", handler);
    return b;
  }

  var STATES = { created: "créé", running: "en cours", stopping: "arrêt demandé",
    stopped: "arrêté", succeeded: "terminé", failed: "en échec" };

  function showErrors(job) {
    call("GET", "/jobs/" + job.id + "/errors?limit=200").then(function (page) {
      var box = $("erreurs");
      box.textContent = "";
      var h = document.createElement("h3");
      h.className = "fr-h6";
      h.textContent = "Lignes non migrées du travail " + job.id;
      box.appendChild(h);
      var list = document.createElement("ul");
      page.items.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = "Ligne " + item.ligne + " (" + item.numero + ") : " + item.resultat +
          (item.motif ? " – " + item.motif : "");
        list.appendChild(li);
      });
      if (!page.items.length) {
        var li = document.createElement("li");
        li.textContent = "Aucune.";
        list.appendChild(li);
      }
      box.appendChild(list);
    }).catch(function (e) { say(e.message, "error"); });
  }

  function refresh() {
    if (!token()) { return; }
    call("GET", "/jobs").then(function (data) {
      var body = $("travaux");
      body.textContent = "";
      data.items.forEach(function (job) {
        var row = document.createElement("tr");
        cell(row, job.id);
        cell(row, job.source_name + (job.dry_run ? " (simulation)" : ""));
        cell(row, STATES[job.state] || job.state);
        cell(row, Math.round(job.progress * 100) + " %");
        [job.migrated, job.ignored_doublon, job.ignored_clos, job.ignored_deja_migre,
          job.rejected].forEach(function (n) { cell(row, n); });
        var actions = cell(row, "");
        if (job.state === "running") {
          actions.appendChild(button("Arrêter", function () {
            call("POST", "/jobs/" + job.id + "/stop").then(refresh).catch(function (e) { say(e.message, "error"); });
          }));
        }
        if (["stopped", "failed", "created"].indexOf(job.state) >= 0) {
          actions.appendChild(button("Reprendre", function () {
            call("POST", "/jobs/" + job.id + "/resume").then(refresh).catch(function (e) { say(e.message, "error"); });
          }));
        }
        actions.appendChild(button("Erreurs", function () { showErrors(job); }));
        body.appendChild(row);
      });
      if (!data.items.length) {
        var empty = document.createElement("tr");
        cell(empty, "Aucun travail.").colSpan = 10;
        body.appendChild(empty);
      }
    }).catch(function (e) { say(e.message, "error"); });
    call("GET", "/cutover").then(function (panel) {
      $("c-migres").textContent = panel.migrated;
      $("c-masse").textContent = panel.migrated_bulk;
      $("c-paresseux").textContent = panel.migrated_lazy;
      $("c-attente").textContent = panel.pending;
      $("c-echecs").textContent = panel.failed;
      var radio = $("mode-" + panel.mode);
      if (radio) { radio.checked = true; }
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
    }).catch(function () { /* already said */ });
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
      say("Travail " + job.id + " lancé (" + job.lines + " lignes).", "success");
      refresh();
    }).catch(function (e) { say(e.message, "error"); });
  });
  $("form-bascule").addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = document.querySelector("input[name=mode]:checked");
    if (!chosen) { return; }
    call("PUT", "/cutover", { mode: chosen.value }).then(function () {
      say("Mode de bascule appliqué.", "success");
      refresh();
    }).catch(function (e) { say(e.message, "error"); });
  });
  $("form-annuler").addEventListener("submit", function (event) {
    event.preventDefault();
    var numero = $("numero").value.trim();
    call("POST", "/accounts/" + encodeURIComponent(numero) + "/revert").then(function (r) {
      say("Migration annulée (" + r.codes_removed + " code(s) retiré(s)).", "success");
      refresh();
    }).catch(function (e) { say(e.message, "error"); });
  });
  refresh();
  setInterval(refresh, 5000);
}());
