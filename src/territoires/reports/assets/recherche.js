/* territoires — the site index's search: every commune (reports/communes.js) and every
   page, by name or code, whatever the case, accents, hyphens, apostrophes, « St » for
   « Saint », « CC » / « CA » / « CU » for the communautés. A commune opens its card
   (index.html#commune-29189): each criterion of the score met or missed with its points,
   what would raise it, the commune against the communes of its size band, where the
   mairie corrects its entry. Plain DOM, no network, works from file://. */
(function () {
  "use strict";
  var D = window.TerritoiresCommunes || null;
  var MAX = 12;
  var VIDES = { de: 1, du: 1, des: 1, d: 1, l: 1, la: 1, le: 1, les: 1, et: 1 };
  var SYNONYMES = { st: "saint", ste: "sainte", sts: "saints", stes: "saintes", cte: "communaute", ccom: "cc" };

  function norm(s) {
    return String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/œ/g, "oe").replace(/æ/g, "ae").replace(/[^a-z0-9]+/g, " ").trim();
  }

  /* Words of a name, with the usual abbreviations of its kind added. */
  function jetons(texte) {
    var n = norm(texte), mots = n ? n.split(" ") : [];
    if (/communaute de communes/.test(n)) mots.push("cc");
    if (/communaute d agglomeration/.test(n)) mots.push("ca", "agglo");
    if (/communaute urbaine/.test(n)) mots.push("cu");
    if (/(^| )metropole( |$)/.test(n)) mots.push("metro");
    return mots;
  }

  /* The query as words to find (each a prefix of some word of the name), or a code. */
  function requete(q) {
    var mots = norm(q).split(" ").filter(Boolean).map(function (m) { return SYNONYMES[m] || m; });
    var pleins = mots.filter(function (m) { return !VIDES[m]; });
    mots = pleins.length ? pleins : mots;
    var code = mots.length === 1 && /^(\d[\da-b]\d*|2[ab]\d*)$/.test(mots[0]) ? mots[0].toUpperCase() : null;
    return { mots: mots, code: code };
  }

  function trouve(r, mots) {
    return r.mots.length > 0 && r.mots.every(function (m) {
      return mots.some(function (w) { return w.lastIndexOf(m, 0) === 0; });
    });
  }

  /* A code query: a commune's INSEE code from 3 characters on (prefix), a département or a
     region by its exact code, an EPCI by its SIREN (prefix from 6 digits). */
  function codeCommune(r, code) { return r.code && r.code.length >= 3 && code.lastIndexOf(r.code, 0) === 0; }
  function codePage(r, niveau, code) {
    if (!r.code || !code) return false;
    if (niveau === "epci") return r.code.length >= 6 ? code.lastIndexOf(r.code, 0) === 0 : false;
    return code.toUpperCase() === r.code;
  }

  var entier = function (n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("fr-FR").replace(/\s/g, "\u202f"); };
  var pct = function (x) { return Math.round(x * 100) + "\u202f%"; };

  /* ── data of the communes ──────────────────────────────────────────────── */
  var communes = [], parCode = {};
  if (D) {
    D.communes.forEach(function (c) {
      var o = { code: c[0], nom: c[1], dep: c[2], epci: c[3], pop: c[4], bande: c[5], fiche: c[6] === 1, score: c[7], bits: c[8],
                imprimable: c[9] === 1 };
      o.mots = jetons(o.nom);
      communes.push(o);
      parCode[o.code] = o;
    });
  }
  /* communes déléguées and associées: their name finds the card of their commune */
  var anciennes = [];
  if (D && D.anciennes) {
    D.anciennes.forEach(function (a) {
      var c = parCode[a[2]];
      if (!c) return;
      var o = { nom: a[0], code: a[1], commune: c, type: D.types_anciennes[a[3]], mots: jetons(a[0]) };
      anciennes.push(o);
      (c.anciennes = c.anciennes || []).push(o);
    });
  }

  function el(tag, attrs, texte) {
    var x = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { x.setAttribute(k, attrs[k]); });
    if (texte !== undefined) x.textContent = texte;
    return x;
  }

  function lien(href, texte) { return href ? el("a", { href: href }, texte) : document.createTextNode(texte); }

  /* ── the card ──────────────────────────────────────────────────────────── */
  function fiche(c) {
    var f = document.getElementById("fiche-commune");
    if (!f) return;
    f.textContent = "";
    var h = el("h2", { id: "fiche-titre" }, c.nom + " ");
    h.appendChild(el("span", { class: "code" }, "(" + c.code + ")"));
    f.appendChild(h);
    var dep = D.departements[c.dep] || [c.dep, ""], ep = D.epci[c.epci];
    var p = el("p", { class: "sous-titre" });
    p.appendChild(document.createTextNode("Commune · département : "));
    p.appendChild(lien(dep[1], dep[0]));
    if (ep) { p.appendChild(document.createTextNode(" · EPCI : ")); p.appendChild(lien(ep[1], ep[0])); }
    p.appendChild(document.createTextNode(" · " + entier(c.pop) + " habitants" +
      (c.bande !== null && c.bande !== undefined ? " (" + D.bandes[c.bande] + ")" : "")));
    f.appendChild(p);
    /* its communes déléguées and associées, as its printable fiche says them (in their order) */
    var parType = {}, types = [];
    (c.anciennes || []).forEach(function (a) {
      if (!parType[a.type]) { parType[a.type] = []; types.push(a.type); }
      parType[a.type].push(a.nom);
    });
    types.forEach(function (t) {
      var noms = parType[t];
      var libelle = noms.length > 1 ? t.split(" ").map(function (m) { return m + "s"; }).join(" ") : t;
      f.appendChild(el("p", { class: "sous-titre" }, libelle.charAt(0).toUpperCase() + libelle.slice(1) + " : " + noms.join(", ") + "."));
    });
    /* the printable page of the commune (reports/commune/<code>.html), when it was made */
    if (c.imprimable) {
      var imp = el("p", { class: "lien-fiche" });
      imp.appendChild(el("a", { href: D.dossier_fiches + c.code + ".html" }, "Fiche imprimable de " + c.nom));
      f.appendChild(imp);
    }

    if (!c.fiche) {
      f.appendChild(el("p", { class: "score-commune" }, "Score de présence numérique : donnée absente — la commune n'a pas de fiche mairie dans les données de l'Annuaire de l'administration."));
    } else {
      var s = el("p", { class: "score-commune" }, "Score de présence numérique : ");
      s.appendChild(el("strong", {}, c.score + "\u202f/\u202f100"));
      f.appendChild(s);
      /* each criterion, met or missed, with its points */
      var table = el("table", { class: "criteres" });
      table.appendChild(el("caption", {}, "Critères du score de " + c.nom));
      var tete = el("tr");
      ["Critère", "Rempli", "Points"].forEach(function (t, i) { tete.appendChild(el("th", i === 2 ? { scope: "col", class: "num" } : { scope: "col" }, t)); });
      var thead = el("thead"); thead.appendChild(tete); table.appendChild(thead);
      var tbody = el("tbody"), manques = [];
      D.criteres.forEach(function (k, i) {
        var ok = (c.bits >> i) & 1;
        var tr = el("tr");
        tr.appendChild(el("th", { scope: "row" }, k[1].charAt(0).toUpperCase() + k[1].slice(1)));
        tr.appendChild(el("td", { class: ok ? "oui" : "non" }, ok ? "oui" : "non"));
        tr.appendChild(el("td", { class: "num" }, (ok ? k[2] : 0) + "\u202f/\u202f" + k[2]));
        tbody.appendChild(tr);
        if (!ok) manques.push(k);
      });
      table.appendChild(tbody);
      var boite = el("div", { class: "table-defil", tabindex: "0", role: "region", "aria-label": "Critères du score de " + c.nom });
      boite.appendChild(table);
      f.appendChild(boite);
      /* what would raise it, most points first */
      f.appendChild(el("h3", {}, "Ce qui ferait progresser le score"));
      if (!manques.length) f.appendChild(el("p", {}, "Tous les critères sont remplis."));
      else {
        var ul = el("ul", { class: "progres" });
        manques.sort(function (a, b) { return b[2] - a[2]; }).forEach(function (k) {
          var li = el("li");
          li.appendChild(el("strong", {}, "+" + k[2] + " points"));
          li.appendChild(document.createTextNode(" : " + k[3] + "."));
          ul.appendChild(li);
        });
        f.appendChild(ul);
      }
      /* against the communes of its size band */
      f.appendChild(el("h3", {}, "Face aux communes de sa taille"));
      var bande = D.bandes[c.bande] || "";
      var comparer = function (liste, ou) {
        var scores = liste.filter(function (x) { return x.fiche && x.bande === c.bande; }).map(function (x) { return x.score; });
        if (scores.length < 5) return null;
        var moy = scores.reduce(function (a, b) { return a + b; }, 0) / scores.length;
        var rang = 1 + scores.filter(function (x) { return x > c.score; }).length;
        var egales = scores.filter(function (x) { return x === c.score; }).length - 1;
        return "Communes " + bande + " " + ou + " (" + entier(scores.length) + ") : score moyen " + Math.round(moy) +
          "\u202f/\u202f100. " + c.nom + " (" + c.score + "\u202f/\u202f100) y est " + (rang === 1 ? "1re" : rang + "e") +
          " sur " + entier(scores.length) + (egales > 0 ? ", à égalité avec " + entier(egales) + " autre" + (egales > 1 ? "s" : "") : "") +
          " ; " + pct(scores.filter(function (x) { return x < c.score; }).length / scores.length) + " ont un score plus bas.";
      };
      var lignes = [comparer(communes.filter(function (x) { return x.dep === c.dep; }), "du département " + dep[0]),
                    comparer(communes, "de l'alliance")].filter(Boolean);
      if (!lignes.length) f.appendChild(el("p", {}, "Moins de 5 communes de cette taille : pas de comparaison."));
      lignes.forEach(function (t) { f.appendChild(el("p", {}, t)); });
    }
    /* where the mairie corrects its entry */
    f.appendChild(el("h3", {}, "Corriger la fiche de la mairie"));
    var corr = el("p", {}, "Le site, l'adresse électronique et les horaires viennent de la fiche « Mairie de " + c.nom +
      " » de l'Annuaire de l'administration (DILA), sur service-public.fr. La mairie la corrige depuis cette fiche (lien de mise à jour en bas de page) : ");
    var a = el("a", { href: D.annuaire }, "lannuaire.service-public.fr");
    corr.appendChild(a);
    corr.appendChild(document.createTextNode(". La correction apparaît ici à la mise à jour suivante des données."));
    f.appendChild(corr);
    var retour = el("p");
    retour.appendChild(el("a", { href: "#recherche" }, "Nouvelle recherche"));
    f.appendChild(retour);
    f.hidden = false;
  }

  function ouvrirDepuisAdresse(focus) {
    var m = /^#commune-([0-9AB]{5})$/i.exec(location.hash);
    var f = document.getElementById("fiche-commune");
    if (!m || !parCode[m[1].toUpperCase()]) { if (f && location.hash !== "#fiche-commune") f.hidden = true; return; }
    fiche(parCode[m[1].toUpperCase()]);
    if (focus !== false) { f.focus(); f.scrollIntoView({ block: "start" }); }
  }

  /* ── the search box ────────────────────────────────────────────────────── */
  function demarrer() {
    var input = document.getElementById("recherche");
    var liste = document.getElementById("liste-pages");
    var resultats = document.getElementById("resultats-communes");
    var compte = document.getElementById("compte-pages");
    if (!input || !liste) return;
    var lignes = Array.prototype.slice.call(liste.querySelectorAll("li[data-texte]")).map(function (li) {
      return { li: li, mots: jetons(li.getAttribute("data-texte")), niveau: li.getAttribute("data-niveau"),
               code: li.getAttribute("data-code") || "" };
    });
    function chercher() {
      var q = input.value.trim(), r = requete(q), n = 0;
      lignes.forEach(function (l) {
        var ok = !q || codePage(r, l.niveau, l.code) || (!r.code && trouve(r, l.mots));
        l.li.hidden = !ok;
        if (ok) n++;
      });
      liste.querySelectorAll("[data-groupe]").forEach(function (g) {
        var vues = g.querySelectorAll("li[data-texte]:not([hidden])").length, c = g.querySelector("h2 .code");
        g.hidden = !vues;
        // the group's count says what is shown: « (1 sur 308) » while searching
        if (c) { c.dataset.total = c.dataset.total || c.textContent.replace(/[()]/g, "");
                 c.textContent = "(" + (q ? entier(vues) + " sur " : "") + c.dataset.total + ")"; }
      });
      /* each found: the name shown, the commune whose card it opens, what is said beside it;
         a commune déléguée or associée after the communes, all exact names first */
      var trouvees = [];
      if (q && D) {
        var qn = norm(q), cherche = function (x) { return r.code ? codeCommune(r, x.code) : trouve(r, x.mots); };
        var depNom = function (c) { return (D.departements[c.dep] || [c.dep])[0]; };
        communes.filter(cherche).forEach(function (c) {
          trouvees.push({ nom: c.nom, commune: c, rang: 0,
                          texte: " " + c.code + " — " + depNom(c) + " · " + entier(c.pop) + " hab." });
        });
        anciennes.filter(cherche).forEach(function (a) {
          trouvees.push({ nom: a.nom, commune: a.commune, rang: 1,
                          texte: " " + a.code + " — " + a.type + " de " + a.commune.nom + " (" +
                                 (a.code === a.commune.code ? "" : a.commune.code + ", ") + depNom(a.commune) + ")" });
        });
        trouvees.sort(function (a, b) {
          var ea = norm(a.nom) === qn ? 0 : 1, eb = norm(b.nom) === qn ? 0 : 1;
          return ea - eb || a.rang - b.rang || (b.commune.pop || 0) - (a.commune.pop || 0) || (a.nom < b.nom ? -1 : 1);
        });
      }
      if (resultats) {
        var ul = resultats.querySelector("ul");
        ul.textContent = "";
        trouvees.slice(0, MAX).forEach(function (t) {
          var li = el("li");
          li.appendChild(el("a", { href: "#commune-" + t.commune.code }, t.nom));
          li.appendChild(el("span", { class: "code" }, t.texte));
          ul.appendChild(li);
        });
        resultats.hidden = trouvees.length === 0;
        var plus = resultats.querySelector(".plus");
        plus.textContent = trouvees.length > MAX ? (entier(trouvees.length - MAX) + " autres noms de commune : précisez la recherche.") : "";
      }
      if (compte) {
        /* communes, each once (found by its name and by a commune déléguée's) */
        var distinctes = {};
        trouvees.forEach(function (t) { distinctes[t.commune.code] = 1; });
        var nc = Object.keys(distinctes).length;
        compte.textContent = !q ? "" : entier(nc) + (nc > 1 ? " communes" : " commune") + " et " +
          n + (n > 1 ? " pages" : " page") + " trouvées";
      }
    }
    input.addEventListener("input", chercher);
    /* Enter opens the first commune found */
    input.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter") return;
      var premier = resultats && !resultats.hidden && resultats.querySelector("a");
      if (premier) { ev.preventDefault(); location.hash = premier.getAttribute("href"); }
    });
    window.addEventListener("hashchange", function () { ouvrirDepuisAdresse(true); });
    if (input.value) chercher();
    ouvrirDepuisAdresse(false);
    document.documentElement.setAttribute("data-recherche", D ? "communes" : "pages");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", demarrer);
  else demarrer();
})();
