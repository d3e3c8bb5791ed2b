/* territoires — first paint of the maps, before plotly.js is even loaded.
   plotly.js (4.8 MB) takes about half a second to parse, then its geo map as long again
   to draw 3,685 communes. This small script draws each map at once as a plain SVG, from
   the same embedded JSON (same polygons, same colours, same projection), then loads
   plotly.js and territoires.js, which replace the preview with the interactive map.
   It also holds the geometry decoder that territoires.js reuses. */
(function () {
  "use strict";
  var T = (window.Territoires = window.Territoires || {});

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

  var merc = function (lat) { return Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)); };

  function apercu(fig) {
    var div = fig.querySelector(".trace");
    var d = T.donnees(fig);
    if (!div || !d || !d.figure || !d.geometries) return;
    var layout = d.figure.layout || {};
    var geo = layout.geo || {};
    if (!geo.lonaxis || !geo.lataxis) return; /* several panels or fitted bounds: plotly only */
    var largeur = div.clientWidth || 800;
    var hauteur = Math.min(layout.height || 560, largeur < 600 ? Math.round(largeur * 1.05) : 1e9);
    var marge = (layout.margin && layout.margin.b) || 0;
    var x0 = geo.lonaxis.range[0], x1 = geo.lonaxis.range[1];
    var y0 = merc(geo.lataxis.range[0]), y1 = merc(geo.lataxis.range[1]);
    var w = ((x1 - x0) * Math.PI) / 180, h = y1 - y0;
    var k = Math.min(largeur / w, (hauteur - marge) / h);
    var ox = (largeur - w * k) / 2, oy = (hauteur - marge - h * k) / 2;
    var px = function (p) {
      return (ox + (((p[0] - x0) * Math.PI) / 180) * k).toFixed(1) + "," + (oy + (y1 - merc(p[1])) * k).toFixed(1);
    };
    var svg = ['<svg class="apercu" xmlns="http://www.w3.org/2000/svg" width="' + largeur + '" height="' + hauteur +
               '" viewBox="0 0 ' + largeur + " " + hauteur + '" aria-hidden="true" focusable="false">'];
    (d.figure.data || []).forEach(function (t) {
      if (t.type !== "choropleth" || typeof t.geojson !== "string") return;
      var col = d.geometries[t.geojson.slice(5)];
      if (!col) return;
      var f = Math.pow(10, col.precision);
      var ligne = (t.marker && t.marker.line) || {};
      for (var i = 0; i < col.ids.length; i++) {
        var z = t.z ? t.z[i] : null;
        if (z === null || z === undefined) continue;
        var chemin = col.shapes[i].map(function (anneaux) {
          return anneaux.map(function (a) { return "M" + T.decodeAnneau(a, f).map(px).join("L") + "Z"; }).join("");
        }).join("");
        svg.push('<path d="' + chemin + '" fill="' + couleur(z, t.colorscale, t.zmin, t.zmax) +
                 '" stroke="' + (ligne.color || "#fff") + '" stroke-width="' + (ligne.width || 0.3) + '"/>');
      }
    });
    svg.push("</svg>");
    div.insertAdjacentHTML("afterbegin", svg.join(""));
    fig.classList.add("apercu-dessine");
  }

  /* Dynamic scripts with async = false run in insertion order, each in its own task
     once loaded: the browser paints the previews before plotly.js is parsed, and the
     page's load event still waits for both. */
  function charger(src) {
    var s = document.createElement("script");
    s.src = src;
    s.async = false;
    document.body.appendChild(s);
  }

  var moi = document.currentScript;
  function demarrer() {
    document.querySelectorAll("figure.graphique.carte").forEach(function (fig) {
      try { apercu(fig); } catch (e) { if (window.console) console.warn("aperçu non dessiné", e); }
    });
    try { performance.mark("territoires:apercu"); } catch (e) { /* old browsers */ }
    var plotly = moi && moi.getAttribute("data-plotly");
    var script = moi && moi.getAttribute("data-script");
    if (!plotly || !script) return; /* single-file page: both follow inline */
    charger(plotly);
    charger(script);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", demarrer);
  else demarrer();
})();
