/* territoires — draws every figure of a page without plotly.js: maps as plain SVG (same
   polygons, classes, colours and projection as the interactive map), bar charts as HTML,
   each map with its HTML legend (every class labelled, « donnée absente » included) and a
   keyboard-usable indicator selector. plotly.js (its 1.4 MB geo bundle) is loaded only
   once every figure is drawn, in idle time (or when the reader points at « Carte
   interactive »), and draws a map only when the reader asks for it: territoires.js then
   draws it with plotly. Also holds the geometry decoder and the table filters. No network. */
(function () {
  "use strict";
  var T = (window.Territoires = window.Territoires || {});
  var SVG = "http://www.w3.org/2000/svg";

  /* Encoded polyline → [[lon, lat], …] (see territoires.geo.encode_ring). */
  T.decodeAnneau = function (s, facteur) {
    var coords = [], i = 0, n = s.length, x = 0, y = 0;
    while (i < n) {
      var v = [0, 0];
      for (var k = 0; k < 2; k++) {
        var res = 0, dec = 0, b;
        do { b = s.charCodeAt(i++) - 63; res |= (b & 0x1f) << dec; dec += 5; } while (b >= 0x20);
        v[k] = (res & 1) ? ~(res >> 1) : (res >> 1);
      }
      x += v[0]; y += v[1];
      coords.push([x / facteur, y / facteur]);
    }
    return coords;
  };

  /* Encoded collection → GeoJSON FeatureCollection (decoded once, kept for plotly). */
  T.geojson = function (col) {
    if (col._geojson) return col._geojson;
    var f = Math.pow(10, col.precision), features = [];
    for (var i = 0; i < col.ids.length; i++) {
      var polys = col.shapes[i].map(function (anneaux) {
        return anneaux.map(function (a) { return T.decodeAnneau(a, f); });
      });
      features.push({ type: "Feature", id: col.ids[i], properties: {}, geometry: { type: "MultiPolygon", coordinates: polys } });
    }
    col._geojson = { type: "FeatureCollection", features: features };
    return col._geojson;
  };

  /* Parsed figure JSON, shared with territoires.js so the page parses it once. */
  T.donnees = function (fig) {
    if (!fig._donnees) {
      var script = fig.querySelector("script.figure-donnees");
      fig._donnees = script ? JSON.parse(script.textContent) : null;
      var g = fig._donnees && fig._donnees.geometries;
      /* « #meme:<name>:<count> »: the same shapes as another map of the page carries */
      Object.keys(g || {}).forEach(function (k) {
        if (typeof g[k] !== "string" || g[k].indexOf("#meme:") !== 0) return;
        var ref = g[k].split(":"), n = +ref[2];
        g[k] = null;
        Array.prototype.some.call(document.querySelectorAll("figure.carte"), function (autre) {
          var d = autre !== fig && T.donnees(autre), c = d && d.geometries && d.geometries[ref[1]];
          if (c && typeof c === "object" && c.ids && c.ids.length === n) { g[k] = c; return true; }
          return false;
        });
      });
    }
    return fig._donnees;
  };

  function hex(c) {
    var m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(c);
    return m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)] : [200, 200, 200];
  }

  /* Colour of z on a plotly colorscale [[0, c0], …, [1, cn]] between zmin and zmax. */
  function couleur(z, echelle, zmin, zmax) {
    var t = zmax > zmin ? (z - zmin) / (zmax - zmin) : 0;
    t = Math.max(0, Math.min(1, t));
    for (var i = 1; i < echelle.length; i++) {
      if (t <= echelle[i][0] || i === echelle.length - 1) {
        var a = echelle[i - 1], b = echelle[i], span = b[0] - a[0];
        var u = span > 0 ? (t - a[0]) / span : 0, ca = hex(a[1]), cb = hex(b[1]);
        return "rgb(" + [0, 1, 2].map(function (k) { return Math.round(ca[k] + (cb[k] - ca[k]) * u); }).join(",") + ")";
      }
    }
    return echelle[echelle.length - 1][1];
  }

  /* What variant i of a map shows, per choropleth trace: {z, text, labels, colorscale, zmin, zmax}.
     Variant 0 is the figure itself; others are its selector's plotly arguments (restyle for
     one map, update for small multiples sharing a colour axis). */
  T.variante = function (d, i) {
    var data = d.figure.data || [], lay = d.figure.layout || {}, out = {};
    data.forEach(function (t, k) {
      if (t.type !== "choropleth" || t.hoverinfo === "skip") return;
      var ca = t.coloraxis ? lay.coloraxis || {} : null;
      out[k] = { z: t.z, text: t.text, labels: t._categories, colorscale: ca ? ca.colorscale : t.colorscale,
                 zmin: ca ? ca.cmin : t.zmin, zmax: ca ? ca.cmax : t.zmax };
    });
    var menu = (lay.updatemenus || [])[0];
    var b = i > 0 && menu && menu.buttons ? menu.buttons[i] : null;
    if (!b) return out;
    var a = b.args[0] || {}, l = b.args[1];
    if (b.method === "restyle") {
      (l || Object.keys(out)).forEach(function (k, j) {
        var o = out[k];
        if (!o) return;
        o.z = a.z[j];
        o.text = a.text ? a.text[j] : null;
        o.labels = a._categories ? a._categories[j] : null;
        if (a.colorscale) o.colorscale = a.colorscale[j];
        if (a.zmin !== undefined) { o.zmin = a.zmin; o.zmax = a.zmax; }
      });
    } else {
      Object.keys(out).forEach(function (k, j) {
        var o = out[k];
        o.z = a.z ? a.z[j] : o.z;
        o.text = a.text ? a.text[j] : null;
        o.labels = null;
        if (l && l["coloraxis.colorscale"]) {
          o.colorscale = l["coloraxis.colorscale"]; o.zmin = l["coloraxis.cmin"]; o.zmax = l["coloraxis.cmax"];
        }
      });
    }
    return out;
  };

  var merc = function (lat) { return Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)); };

  /* One geo subplot as an SVG (viewBox in projected units: it scales to any width and prints). */
  function panneau(d, geoKey, traces) {
    var geo = (d.figure.layout || {})[geoKey] || {};
    if (!geo.lonaxis || !geo.lataxis) return null;
    var x0 = geo.lonaxis.range[0], x1 = geo.lonaxis.range[1];
    var y0 = merc(geo.lataxis.range[0]), y1 = merc(geo.lataxis.range[1]);
    var w = ((x1 - x0) * Math.PI) / 180, h = y1 - y0;
    var W = 1000, k = W / w, H = Math.round(h * k);
    var px = function (p) {
      return ((((p[0] - x0) * Math.PI) / 180) * k).toFixed(1) + "," + ((y1 - merc(p[1])) * k).toFixed(1);
    };
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "apercu");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    traces.forEach(function (tk) {
      var t = tk.t, col = d.geometries[t.geojson.slice(5)];
      if (!col) return;
      var f = Math.pow(10, col.precision), g = document.createElementNS(SVG, "g");
      var ligne = (t.marker && t.marker.line) || {};
      g.setAttribute("stroke", ligne.color || "#fff");
      g.setAttribute("stroke-width", String(Math.max(0.4, (ligne.width || 0.3) * 1.6)));
      g.setAttribute("stroke-linejoin", "round");
      var chemins = [];
      for (var i = 0; i < col.ids.length; i++) {
        var p = document.createElementNS(SVG, "path");
        p.setAttribute("d", col.shapes[i].map(function (anneaux) {
          return anneaux.map(function (a) { return "M" + T.decodeAnneau(a, f).map(px).join("L") + "Z"; }).join("");
        }).join(""));
        if (tk.fond) p.setAttribute("fill", (t.colorscale && t.colorscale[0] && t.colorscale[0][1]) || "#eee");
        else {
          var titre = document.createElementNS(SVG, "title");
          p.appendChild(titre);
        }
        g.appendChild(p);
        chemins.push(p);
      }
      svg.appendChild(g);
      if (!tk.fond) tk.chemins = chemins;
    });
    return svg;
  }

  /* Paint variant i on the SVG preview, its legend and its text alternative. */
  function colorier(fig, i) {
    var d = T.donnees(fig), v = T.variante(d, i), data = d.figure.data;
    (fig._traces || []).forEach(function (tk) {
      var o = v[tk.k];
      if (!o || !tk.chemins) return;
      var noms = tk.t.customdata || [];
      tk.chemins.forEach(function (p, j) {
        var z = o.z ? o.z[j] : null;
        var absent = z === null || z === undefined;
        p.setAttribute("fill", absent ? "#cfcfcf" : couleur(z, o.colorscale, o.zmin, o.zmax));
        var label = o.text && o.text[j] ? o.text[j] : (o.labels && !absent ? o.labels[z] : (absent ? "donnée absente" : String(z)));
        p.firstChild.textContent = (noms[j] ? noms[j] + " — " : "") + label;
      });
    });
    legende(fig, (d.figure.legendes || [])[i]);
    var alt = document.getElementById(fig.id + "-alt");
    if (alt) {
      if (!alt.hasAttribute("data-alt")) alt.setAttribute("data-alt", alt.textContent);
      if (i > 0 || fig._choix) alt.textContent = alt.getAttribute("data-alt") + " Indicateur affiché : " + (d.figure.legendes || [])[i].titre + ".";
    }
    fig._choix = i;
    void data;
  }

  /* The legend in HTML: a title and every class with its swatch, wrapping on a phone. */
  function legende(fig, leg) {
    var bloc = fig.querySelector(".legende");
    if (!leg || !leg.classes || !leg.classes.length) { if (bloc) bloc.hidden = true; return; }
    if (!bloc) {
      bloc = document.createElement("div");
      bloc.className = "legende";
      var trace = fig.querySelector(".trace");
      /* several panels: the legend above them, not after the last one (a phone shows them one under the other) */
      trace.parentNode.insertBefore(bloc, trace.querySelector(".panneaux") ? trace : trace.nextSibling);
    }
    bloc.hidden = false;
    bloc.textContent = "";
    var titre = document.createElement("p");
    titre.className = "titre-legende";
    titre.textContent = "Légende : " + leg.titre;
    var ul = document.createElement("ul");
    leg.classes.forEach(function (c) {
      var li = document.createElement("li"), sw = document.createElement("span");
      sw.className = "pastille";
      sw.style.background = c[1];
      li.appendChild(sw);
      li.appendChild(document.createTextNode(c[0]));
      ul.appendChild(li);
    });
    bloc.appendChild(titre);
    bloc.appendChild(ul);
  }

  /* A keyboard-usable <select> of the map's indicators (plotly's SVG dropdown is not). */
  function selecteur(fig) {
    var d = T.donnees(fig), menu = ((d.figure.layout || {}).updatemenus || [])[0];
    var boutons = (menu && menu.buttons) || [];
    if (boutons.length < 2) return;
    var bloc = document.createElement("div");
    bloc.className = "selecteur";
    var id = fig.id + "-choix";
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
      var i = Number(sel.value);
      colorier(fig, i);
      if (fig._plotly && T.choisir) T.choisir(fig, i);
    });
    bloc.appendChild(label);
    bloc.appendChild(sel);
    avantTrace(fig, bloc);
  }

  /* Put a control above the figure's drawing. */
  function avantTrace(fig, bloc) {
    var trace = fig.querySelector(".trace");
    trace.parentNode.insertBefore(bloc, trace);
  }

  function carte(fig) {
    var div = fig.querySelector(".trace"), d = T.donnees(fig);
    if (!div || !d || !d.figure || !d.geometries) return;
    if (Object.keys(d.geometries).some(function (k) { return !d.geometries[k]; })) return; /* a shared shape not found */
    var groupes = {}, ordre = [];
    fig._traces = [];
    (d.figure.data || []).forEach(function (t, k) {
      if (t.type !== "choropleth" || typeof t.geojson !== "string") return;
      var g = t.geo || "geo";
      if (!groupes[g]) { groupes[g] = []; ordre.push(g); }
      var tk = { t: t, k: k, fond: t.hoverinfo === "skip" };
      groupes[g].push(tk);
      fig._traces.push(tk);
    });
    var svgs = ordre.map(function (g) { return { g: g, svg: panneau(d, g, groupes[g]) }; });
    if (svgs.some(function (s) { return !s.svg; })) return; /* fitted bounds: plotly only */
    if (svgs.length === 1) {
      div.appendChild(svgs[0].svg);
    } else {
      var grille = document.createElement("div");
      grille.className = "panneaux apercu";
      svgs.forEach(function (s) {
        var p = document.createElement("div"), titre = document.createElement("p");
        p.className = "panneau";
        titre.className = "titre-panneau";
        titre.textContent = groupes[s.g].filter(function (tk) { return !tk.fond; }).map(function (tk) { return tk.t.name; }).join(", ");
        p.appendChild(titre);
        p.appendChild(s.svg);
        grille.appendChild(p);
      });
      div.appendChild(grille);
    }
    div.style.minHeight = "";
    selecteur(fig);
    colorier(fig, 0);
    bouton(fig);
    fig.classList.add("apercu-dessine");
    div.setAttribute("data-dessine", "1");
  }

  /* « Carte interactive »: plotly.js and territoires.js, loaded once, then this map drawn.
     The scripts are loaded ahead of the click (precharger): in idle time once every figure
     is drawn, or as soon as the reader points at or focuses the button; the click then
     pays only for plotly's drawing. A failed preload is forgotten: the click tries again. */
  var moi = document.currentScript;
  var chargement = null;
  function charger(src) {
    return new Promise(function (ok, ko) {
      var s = document.createElement("script");
      s.src = src;
      s.async = false;
      s.onload = ok;
      s.onerror = function () { ko(new Error(src + " introuvable")); };
      document.body.appendChild(s);
    });
  }
  function scripts() {
    if (!chargement) {
      var plotly = moi && moi.getAttribute("data-plotly"), script = moi && moi.getAttribute("data-script");
      try { performance.mark("territoires:chargement"); } catch (e) { /* old browsers */ }
      chargement = (window.Plotly || !plotly ? Promise.resolve() : charger(plotly)).then(function () {
        return T.dessiner || !script ? null : charger(script);
      });
      chargement.catch(function () { chargement = null; });
    }
    return chargement;
  }
  function precharger() { scripts().catch(function () { /* the click says it */ }); }
  T.interactif = function (fig) {
    if (fig._plotly) return Promise.resolve();
    return scripts().then(function () {
      if (!window.Plotly || !T.dessiner) throw new Error("plotly.js indisponible");
      return T.dessiner(fig, fig._choix || 0);
    });
  };
  /* In idle time after the first paint, unless the reader asked to save data. */
  function prechargerAuRepos() {
    if (!document.querySelector("button.interactif")) return;
    if (navigator.connection && navigator.connection.saveData) return;
    if (window.requestIdleCallback) window.requestIdleCallback(precharger, { timeout: 3000 });
    else setTimeout(precharger, 500);
  }
  function bouton(fig) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "interactif";
    b.textContent = "Carte interactive (zoom, survol)";
    var note = document.createElement("span");
    note.className = "note";
    note.setAttribute("aria-live", "polite");
    ["pointerenter", "touchstart", "focus"].forEach(function (ev) { b.addEventListener(ev, precharger, { passive: true }); });
    b.addEventListener("click", function () {
      b.disabled = true;
      note.textContent = "Chargement de la carte interactive…";
      T.interactif(fig).then(function () {
        b.hidden = true;
        note.textContent = "Carte interactive affichée : zoom avec les boutons en haut à droite, survolez une commune pour sa valeur.";
      }).catch(function (err) {
        b.disabled = false;
        note.textContent = "La carte interactive n'a pas pu être chargée ; la carte ci-dessous reste lisible.";
        if (window.console) console.warn(err);
      });
    });
    var bloc = document.createElement("p");
    bloc.className = "actions-carte";
    bloc.appendChild(b);
    bloc.appendChild(note);
    avantTrace(fig, bloc);
  }

  /* Bar charts in HTML: one row per category, one bar per series, the value written. */
  function barres(fig) {
    var div = fig.querySelector(".trace"), d = T.donnees(fig);
    if (!div || !d) return;
    var f = d.figure || d, data = (f.data || []).filter(function (t) { return t.type === "bar"; });
    if (!data.length) return;
    var horiz = data[0].orientation === "h";
    var cats = (horiz ? data[0].y : data[0].x) || [];
    var ax = ((f.layout || {})[horiz ? "xaxis" : "yaxis"]) || {};
    var max = ax.range ? ax.range[1] : 0;
    data.forEach(function (t) { (horiz ? t.x : t.y).forEach(function (v) { if (v > max) max = v; }); });
    var racine = document.createElement("div");
    racine.className = "barres";
    racine.setAttribute("aria-hidden", "true"); /* the data table below says the same to screen readers */
    if (data.length > 1) {
      var ul = document.createElement("ul");
      ul.className = "series";
      data.forEach(function (t) {
        var li = document.createElement("li"), sw = document.createElement("span");
        sw.className = "pastille";
        sw.style.background = (t.marker && t.marker.color) || "#0868ac";
        li.appendChild(sw);
        li.appendChild(document.createTextNode(t.name || ""));
        ul.appendChild(li);
      });
      racine.appendChild(ul);
    }
    cats.forEach(function (c, i) {
      var g = document.createElement("div"), lab = document.createElement("p");
      g.className = "groupe";
      lab.className = "categorie";
      /* labels were escaped by the Python side (charts.coupe), lines joined by <br> */
      lab.innerHTML = String(c).split("<br>").join(" ");
      g.appendChild(lab);
      data.forEach(function (t) {
        var v = (horiz ? t.x : t.y)[i], ligne = document.createElement("div"), barre = document.createElement("span");
        var val = document.createElement("span");
        ligne.className = "ligne";
        barre.className = "barre";
        barre.style.width = (v === null || v === undefined || !max ? 0 : Math.max(0.4, (100 * v) / max)) + "%";
        barre.style.background = (t.marker && t.marker.color) || "#0868ac";
        val.className = "valeur-barre";
        val.textContent = (t.text && t.text[i]) || (v === null || v === undefined ? "–" : String(v));
        if (data.length > 1) barre.title = t.name;
        ligne.appendChild(barre);
        ligne.appendChild(val);
        g.appendChild(ligne);
      });
      racine.appendChild(g);
    });
    div.appendChild(racine);
    div.style.minHeight = "";
    div.setAttribute("data-dessine", "1");
  }

  /* Text filter on a table (list of communes, site index). */
  function filtres() {
    document.querySelectorAll("input[data-filtre]").forEach(function (input) {
      var cible = document.getElementById(input.getAttribute("data-filtre"));
      var compte = document.getElementById(input.getAttribute("data-compte"));
      if (!cible) return;
      var lignes = cible.querySelectorAll("tbody tr, li[data-texte]");
      var norm = T.normaliser;
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
  /* Case, accents, hyphens and apostrophes do not matter in a search. */
  T.normaliser = function (s) {
    return String(s).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[-'’_.,/]+/g, " ").replace(/\s+/g, " ").trim();
  };

  /* Print: open the data tables, restore afterwards. */
  var ouverts = [];
  window.addEventListener("beforeprint", function () {
    ouverts = [];
    document.querySelectorAll("details.donnees").forEach(function (d) {
      if (!d.open) { d.open = true; ouverts.push(d); }
    });
  });
  window.addEventListener("afterprint", function () { ouverts.forEach(function (d) { d.open = false; }); });

  function demarrer() {
    document.querySelectorAll("figure.graphique").forEach(function (fig) {
      try {
        if (fig.classList.contains("carte")) carte(fig); else barres(fig);
      } catch (e) { if (window.console) console.warn("figure non dessinée", e); }
    });
    try { performance.mark("territoires:apercu"); } catch (e) { /* old browsers */ }
    filtres();
    prechargerAuRepos();
    document.documentElement.setAttribute("data-figures", "ok");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", demarrer);
  else demarrer();
})();
