/* territoires — the interactive map, with plotly.js, loaded by apercu.js only when the
   reader asks for it (button « Carte interactive »). No network: maps use our own GeoJSON
   (decoded from encoded polylines) and a stub world topology, so plotly never fetches its
   CDN assets; everything works from file://. */
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

  var enregistree = false;

  /* Variant i on the plotly map (the page's own selector calls this). */
  T.choisir = function (fig, i) {
    var div = fig.querySelector(".trace"), d = T.donnees(fig);
    var menu = ((d.figure.layout || {}).updatemenus || [])[0];
    var b = menu && menu.buttons ? menu.buttons[i] : null;
    if (!b || !fig._plotly) return Promise.resolve();
    var args = Object.assign({}, b.args[0]);
    etiquettes(args, true); /* a copy: the SVG map reads the button's own arguments */
    if (b.method === "update") return Plotly.update(div, args, b.args[1] || {}, b.args[2]);
    if (b.method === "relayout") return Plotly.relayout(div, args);
    return Plotly.restyle(div, args, b.args[1]);
  };

  /* The interactive map of a figure, with plotly, showing variant i (asked by apercu.js). */
  T.dessiner = function (fig, i) {
    var div = fig.querySelector(".trace");
    var donnees = T.donnees(fig);
    if (!donnees || !div) return Promise.resolve();
    if (!enregistree) { Plotly.register(LOCALE_FR); enregistree = true; }
    var figure = donnees.figure || donnees;
    var geos = {};
    Object.keys(donnees.geometries || {}).forEach(function (k) { geos[k] = geojson(donnees.geometries[k]); });
    var layout = figure.layout || {};
    (figure.data || []).forEach(function (t) {
      if (typeof t.geojson === "string" && t.geojson.indexOf("#geo:") === 0) t.geojson = geos[t.geojson.slice(5)];
      if (typeof t.locations === "string" && t.locations.indexOf("#ids:") === 0) t.locations = donnees.geometries[t.locations.slice(5)].ids;
      etiquettes(t, false);
      t.showscale = false; /* the page's HTML legend says every class */
    });
    /* plotly gets neither its menus (the page's <select> drives the map through T.choisir)
       nor the figure's own layout object (T.choisir reads the menus there) */
    layout = Object.assign({}, layout);
    delete layout.updatemenus;
    if (layout.coloraxis) layout.coloraxis = Object.assign({}, layout.coloraxis, { showscale: false });
    layout.margin = Object.assign({}, layout.margin || {}, { b: 0 });
    var large = div.clientWidth || fig.clientWidth || 800;
    var config = Object.assign({}, CONFIG, figure.config || {});
    if (large < 600) {
      layout.font = Object.assign({}, layout.font || {}, { size: 12 });
      if (layout.height) layout.height = Math.max(300, Math.min(layout.height, Math.round(large * 1.05)));
    }
    if (layout.height) layout.height -= 60; /* no colour bar under the map */
    /* The SVG map hidden while plotly draws (its paths are then left out of the style and
       layout passes plotly triggers), the figure keeping its height; back if plotly fails. */
    div.style.minHeight = div.offsetHeight + "px";
    fig.classList.add("dessinee");
    return Promise.resolve().then(function () {
      return Plotly.newPlot(div, figure.data, layout, config);
    }).then(function () {
      div.style.minHeight = "";
      fig._plotly = true;
      div.setAttribute("data-interactive", "1");
      marque("territoires:" + fig.id);
      return i ? T.choisir(fig, i) : null;
    }, function (err) {
      div.style.minHeight = "";
      fig.classList.remove("dessinee");
      throw err;
    });
  };
})();
