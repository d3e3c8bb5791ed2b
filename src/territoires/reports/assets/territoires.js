/* territoires — draws the dashboards' figures from the JSON embedded in the page.
   No network: maps use our own GeoJSON (decoded from encoded polylines) and a stub
   world topology, so plotly never fetches its CDN assets; everything works from file://. */
(function () {
  "use strict";
  var marque = function (nom) { try { performance.mark(nom); } catch (e) { /* old browsers */ } };
  marque("territoires:script");

  /* Plotly's geo subplots always load world_110m; give them an empty topology. */
  var G = (window.PlotlyGeoAssets = window.PlotlyGeoAssets || { topojson: {} });
  G.topojson = G.topojson || {};
  if (!G.topojson.world_110m) {
    var vide = function () { return { type: "GeometryCollection", geometries: [] }; };
    G.topojson.world_110m = {
      type: "Topology", arcs: [],
      objects: { land: vide(), countries: vide(), coastlines: vide(), ocean: vide(), lakes: vide(), rivers: vide(), subunits: vide() }
    };
  }

  /* geometry decoding and the parsed figure JSON come from apercu.js (loaded first) */
  var T = window.Territoires || {};
  var geojson = function (col) { return T.geojson(col); };

  /* Categorical map variants carry their labels once (_categories): hover text = label of z. */
  function etiquettes(attrs, enveloppe) {
    var cats = attrs._categories;
    delete attrs._categories;
    if (!cats || cats[0] === null) {
      if (attrs.text && attrs.text[0] === null) attrs.text = enveloppe ? [null] : null;
      return;
    }
    var lab = function (zs, c) { return zs.map(function (v) { return v === null || v === undefined ? "" : c[v]; }); };
    if (enveloppe) attrs.text = attrs.z.map(function (zs, i) { return lab(zs, cats[i]); });
    else attrs.text = lab(attrs.z, cats);
  }

  /* Re-wrap a label (lines joined by <br>) to a narrower width, for phones. */
  function recoupe(label, largeur) {
    var mots = String(label).split("<br>").join(" ").split(" "), lignes = [], cur = "";
    mots.forEach(function (m) {
      if (!m) return;
      if (cur && (cur + " " + m).length > largeur) { lignes.push(cur); cur = m; }
      else cur = cur ? cur + " " + m : m;
    });
    if (cur) lignes.push(cur);
    return lignes.join("<br>");
  }

  var LOCALE_FR = {
    moduleType: "locale", name: "fr",
    dictionary: {
      "Zoom in": "Zoom avant", "Zoom out": "Zoom arrière", "Reset": "Réinitialiser",
      "Reset view": "Réinitialiser la vue", "Reset axes": "Réinitialiser les axes",
      "Download plot as a png": "Télécharger l'image (PNG)", "Download plot as a PNG": "Télécharger l'image (PNG)",
      "Download plot": "Télécharger l'image", "Download plot as JSON": "Télécharger les données (JSON)",
      "Preparing image - this may take a few seconds": "Préparation de l'image, quelques secondes…",
      "Image download succeeded": "Image téléchargée", "JSON download succeeded": "Données téléchargées",
      "Sorry, there was a problem downloading your image!": "L'image n'a pas pu être téléchargée.",
      "Sorry, there was a problem downloading your JSON file!": "Les données n'ont pas pu être téléchargées.",
      "Reset views": "Réinitialiser les vues", "Box Select": "Sélection rectangulaire", "Lasso Select": "Sélection au lasso",
      "Show closest data on hover": "Afficher la donnée la plus proche au survol",
      "Compare data on hover": "Comparer les données au survol", "Toggle Spike Lines": "Lignes de repère",
      "Pan": "Déplacer", "Zoom": "Zoom", "Autoscale": "Échelle automatique",
      "Produced with Plotly.js": "Réalisé avec Plotly.js", "Double-click to zoom back out": "Double-cliquez pour revenir",
      "Double-click on legend to isolate one trace": "Double-cliquez sur la légende pour isoler une série",
      "Click to enter Colorscale title": "", "Click to enter Colorbar title": "", "Click to enter Plot title": ""
    },
    format: { days: ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
              shortDays: ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
              months: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
              shortMonths: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
              date: "%d/%m/%Y", decimal: ",", thousands: "\u202f" }
  };

  var CONFIG = {
    responsive: true, displaylogo: false, scrollZoom: false, locale: "fr",
    /* no « Share chart » (uploads the data to Plotly Cloud), no JSON export */
    showSendToCloud: false, showEditInChartStudio: false,
    modeBarButtonsToRemove: ["sendChartToCloud", "sendDataToCloud", "editInChartStudio", "select2d", "lasso2d", "autoScale2d", "toggleSpikelines",
                             "hoverClosestCartesian", "hoverCompareCartesian", "hoverClosestGeo", "zoom2d", "pan2d"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };

  /* A keyboard-usable <select> replacing plotly's SVG dropdown (updatemenus). */
  function selecteur(fig, div, menu, idx) {
    var boutons = menu.buttons || [];
    var bloc = document.createElement("div");
    bloc.className = "selecteur";
    var id = div.id + "-choix";
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = "Indicateur affiché";
    var sel = document.createElement("select");
    sel.id = id;
    boutons.forEach(function (b, i) {
      var o = document.createElement("option");
      o.value = String(i); o.textContent = b.label;
      sel.appendChild(o);
    });
    sel.addEventListener("change", function () {
      var b = boutons[Number(sel.value)];
      if (b.method === "update") Plotly.update(div, b.args[0], b.args[1] || {}, b.args[2]);
      else if (b.method === "relayout") Plotly.relayout(div, b.args[0]);
      else Plotly.restyle(div, b.args[0], b.args[1]);
      var alt = document.getElementById(fig.id + "-alt");
      if (alt) alt.textContent = (alt.getAttribute("data-alt") || "") + " Indicateur affiché : " + b.label + ".";
    });
    bloc.appendChild(label);
    bloc.appendChild(sel);
    div.parentNode.insertBefore(bloc, div);
  }

  function dessiner(fig) {
    var div = fig.querySelector(".trace");
    var donnees = T.donnees(fig);
    if (!donnees || !div) return;
    var figure = donnees.figure || donnees;
    var geos = {};
    Object.keys(donnees.geometries || {}).forEach(function (k) { geos[k] = geojson(donnees.geometries[k]); });
    var layout = figure.layout || {};
    (figure.data || []).forEach(function (t) {
      if (typeof t.geojson === "string" && t.geojson.indexOf("#geo:") === 0) t.geojson = geos[t.geojson.slice(5)];
      if (typeof t.locations === "string" && t.locations.indexOf("#ids:") === 0) t.locations = donnees.geometries[t.locations.slice(5)].ids;
      etiquettes(t, false);
    });
    (layout.updatemenus || []).forEach(function (m) {
      (m.buttons || []).forEach(function (b) { if (b.args && b.args[0]) etiquettes(b.args[0], true); });
    });
    var large = div.clientWidth || fig.clientWidth || 800;
    var config = Object.assign({}, CONFIG, figure.config || {});
    if (large < 600) {
      /* phone: smaller text, no tool bar over the legend, maps no taller than wide */
      config.displayModeBar = false;
      layout.font = Object.assign({}, layout.font || {}, { size: 12 });
      ["xaxis", "yaxis"].forEach(function (a) {
        if (layout[a]) layout[a].tickfont = Object.assign({}, layout[a].tickfont || {}, { size: 11 });
      });
      (figure.data || []).forEach(function (t) {
        if (t.type !== "bar") return;
        t.textfont = Object.assign({}, t.textfont || {}, { size: 10 });
        if (t.orientation === "h" && t.y) t.y = t.y.map(function (l) { return recoupe(l, 17); });
      });
      ["xaxis", "yaxis"].forEach(function (a) {
        var ax = layout[a];
        if (ax && ax.tickvals && ax.tickvals.length > 4) {
          var keep = function (v, i) { return i % 2 === 0; };
          ax.tickvals = ax.tickvals.filter(keep);
          if (ax.ticktext) ax.ticktext = ax.ticktext.filter(keep);
        }
      });
      if (fig.classList.contains("carte") && layout.height) {
        layout.height = Math.max(300, Math.min(layout.height, Math.round(large * 1.05)));
      }
    }
    var menus = layout.updatemenus || [];
    if (menus.length) {
      selecteur(fig, div, menus[0], 0);
      layout.updatemenus = menus.map(function (m) { m.visible = false; return m; });
    }
    var altp = document.getElementById(fig.id + "-alt");
    if (altp && !altp.hasAttribute("data-alt")) altp.setAttribute("data-alt", altp.textContent);
    div.querySelectorAll("svg.apercu").forEach(function (el) { el.remove(); });
    return Plotly.newPlot(div, figure.data, layout, config).then(function () {
      div.setAttribute("data-dessine", "1");
      fig.classList.add("dessinee");
      marque("territoires:" + fig.id);
    });
  }

  function toutDessiner() {
    if (!window.Plotly) {
      document.querySelectorAll(".sans-script").forEach(function (el) {
        el.hidden = false;
        el.textContent = "Les graphiques n'ont pas pu être affichés (bibliothèque plotly.js introuvable) ; les données restent disponibles sous chaque graphique.";
      });
      return;
    }
    Plotly.register(LOCALE_FR);
    var figs = Array.prototype.slice.call(document.querySelectorAll("figure.graphique"));
    /* maps first: they are what the reader looks for */
    figs.sort(function (a, b) { return (b.classList.contains("carte") ? 1 : 0) - (a.classList.contains("carte") ? 1 : 0); });
    var chaine = Promise.resolve();
    figs.forEach(function (f) {
      chaine = chaine.then(function () { return dessiner(f); }).catch(function (err) {
        if (window.console) console.warn("figure non dessinée", err);
      });
    });
    chaine.then(function () { document.documentElement.setAttribute("data-figures", "ok"); });
  }

  /* Text filter on a table (list of communes, site index). */
  function filtres() {
    document.querySelectorAll("input[data-filtre]").forEach(function (input) {
      var cible = document.getElementById(input.getAttribute("data-filtre"));
      var compte = document.getElementById(input.getAttribute("data-compte"));
      if (!cible) return;
      var lignes = cible.querySelectorAll("tbody tr, li[data-texte]");
      var norm = function (s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); };
      var textes = Array.prototype.map.call(lignes, function (l) { return norm(l.getAttribute("data-texte") || l.textContent); });
      input.addEventListener("input", function () {
        var q = norm(input.value.trim()), n = 0;
        lignes.forEach(function (l, i) { var ok = !q || textes[i].indexOf(q) >= 0; l.hidden = !ok; if (ok) n++; });
        cible.querySelectorAll("[data-groupe]").forEach(function (g) {
          g.hidden = !g.querySelector("li[data-texte]:not([hidden])");
        });
        if (compte) compte.textContent = n + (n > 1 ? " résultats" : " résultat");
      });
    });
  }

  /* Print: open the data tables, restore afterwards. */
  var ouverts = [];
  window.addEventListener("beforeprint", function () {
    ouverts = [];
    document.querySelectorAll("details:not(.liste-territoires)").forEach(function (d) {
      if (!d.open) { d.open = true; ouverts.push(d); }
    });
  });
  window.addEventListener("afterprint", function () { ouverts.forEach(function (d) { d.open = false; }); });

  function demarrer() { filtres(); toutDessiner(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", demarrer);
  else demarrer();
})();
