/*
 * totalcapital maps: draws a scenario (or two, compared) from the data its page embeds.
 *
 * Every string in the data was HTML-escaped by the Python side; this script only
 * arranges it. Sites are symbols (a glyph for the service, a fill and outline for the
 * decision, colour for the decision or the partner); sites whose symbols would overlap
 * at the current zoom merge into a numbered cluster, so that every symbol on screen can
 * be clicked. A cluster opens on a click: it zooms in, or, when its sites stand on the
 * same spot, spreads them round it.
 */
(function () {
  "use strict";

  var SIZE = 30; // a site symbol's box, px
  var GAP = 2; // least space between two symbols (covers rounding to whole pixels)
  var INK = "#222222";
  var PAPER = { A4: [297, 210], A3: [420, 297] };
  var PRINT_MARGIN_MM = 8;
  var KEY_DECISIONS = { host: 1, keep_vacant: 1, dispose: 1, exit_lease: 1, build: 1 };
  var ALL_NAMES_ZOOM = 14;
  var MAX_ZOOM = 18;

  // Zoom without animation for readers who ask their system for reduced motion.
  function animate() {
    return !(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  }

  function clusterSize(count) {
    return count < 10 ? 34 : count < 100 ? 40 : 46;
  }

  var REACH = clusterSize(Infinity) + GAP; // the largest symbol plus the gap

  function boxSize(count) {
    return count === 1 ? SIZE : clusterSize(count);
  }

  function el(tag, attrs, html) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      node.setAttribute(key, attrs[key]);
    });
    if (html !== undefined) {
      node.innerHTML = html;
    }
    return node;
  }

  function plainText(escaped) {
    var span = document.createElement("span");
    span.innerHTML = escaped;
    return span.textContent;
  }

  function financialYear(year) {
    return year + "-" + String((year + 1) % 100).padStart(2, "0");
  }

  function number(value) {
    return value === null || value === undefined ? "–" : value.toLocaleString("en-GB");
  }

  var measure = null;
  function measuring() {
    if (measure === null) {
      measure = document.createElement("canvas").getContext("2d");
      measure.font = "600 11px system-ui, sans-serif";
    }
    return measure;
  }

  // ------------------------------------------------------------------ symbols

  function glyphSvg(type, colour, edged) {
    if (!type) {
      return "";
    }
    var edge = edged ? ' stroke="#ffffff" stroke-width="3" paint-order="stroke" stroke-linejoin="round"' : "";
    if (type.glyph) {
      return (
        '<g transform="translate(7.8 7.8) scale(0.6)"><path fill-rule="evenodd" fill="' +
        colour + '"' + edge + ' d="' + type.glyph + '"/></g>'
      );
    }
    return (
      '<text x="15" y="18.6" text-anchor="middle" font-size="' +
      (type.initials.length > 1 ? 9.5 : 11) + '" font-weight="700" fill="' + colour +
      '" font-family="system-ui, sans-serif">' + type.initials + "</text>"
    );
  }

  // A site symbol in a 30 x 30 box: the style says what the plan does, the glyph what
  // the building is used for; `count` more services than the glyph shows.
  function siteSvg(style, colour, type, more) {
    var disc = 'cx="15" cy="15" r="11"';
    var parts = [];
    var glyphColour = "#ffffff";
    if (style === "ring") {
      parts.push('<circle cx="15" cy="15" r="13.6" fill="#ffffff" stroke="' + colour + '" stroke-width="2.4"/>');
      parts.push('<circle cx="15" cy="15" r="9.8" fill="' + colour + '" stroke="' + INK + '" stroke-width="1.2"/>');
    } else if (style === "light") {
      parts.push("<circle " + disc + ' fill="' + colour + '" stroke="' + INK + '" stroke-width="1.4"/>');
      glyphColour = INK;
    } else if (style === "struck") {
      parts.push("<circle " + disc + ' fill="#ffffff" stroke="' + colour + '" stroke-width="3"/>');
      glyphColour = colour;
    } else if (style === "dashed") {
      parts.push("<circle " + disc + ' fill="#ffffff" stroke="' + colour + '" stroke-width="3" stroke-dasharray="4.2 2.7"/>');
      glyphColour = colour;
    } else if (style === "faint") {
      parts.push("<circle " + disc + ' fill="#ffffff" fill-opacity="0.75" stroke="' + colour + '" stroke-width="2" stroke-dasharray="1.6 2.4"/>');
      glyphColour = colour;
    } else {
      parts.push("<circle " + disc + ' fill="' + colour + '" stroke="' + INK + '" stroke-width="1.4"/>');
    }
    if (style === "struck") {
      // The strike under the glyph, which keeps a white edge so that it still reads.
      parts.push('<line x1="7.2" y1="22.8" x2="22.8" y2="7.2" stroke="' + colour + '" stroke-width="2.4" stroke-opacity="0.75"/>');
    }
    parts.push(glyphSvg(type, glyphColour, style === "struck"));
    if (style === "new") {
      parts.push('<path d="M24.5 0.6l1.5 3.2 3.4.4-2.5 2.3.7 3.4-3.1-1.7-3.1 1.7.7-3.4-2.5-2.3 3.4-.4z" fill="#ffffff" stroke="' + INK + '" stroke-width="1.1"/>');
    }
    if (more > 0) {
      parts.push('<rect x="17.5" y="20" width="12" height="9.5" rx="3" fill="#ffffff" stroke="' + INK + '" stroke-width="1"/>');
      parts.push('<text x="23.5" y="27.6" text-anchor="middle" font-size="8" font-weight="700" fill="' + INK + '" font-family="system-ui, sans-serif">+' + Math.min(more, 9) + "</text>");
    }
    return '<svg width="30" height="30" viewBox="0 0 30 30" aria-hidden="true">' + parts.join("") + "</svg>";
  }

  // A cluster: a ring split by the share of each colour, the number of sites inside.
  function clusterSvg(size, shares, count, differs) {
    var c = size / 2;
    var r = c - 5;
    var circumference = 2 * Math.PI * r;
    var total = shares.reduce(function (sum, s) { return sum + s[1]; }, 0);
    var offset = 0;
    var parts = ['<circle cx="' + c + '" cy="' + c + '" r="' + (c - 1) + '" fill="#ffffff" stroke="' + INK + '" stroke-width="1.2"' + (differs ? ' stroke-dasharray="3 2"' : "") + "/>"];
    shares.forEach(function (share) {
      var length = (circumference * share[1]) / total;
      parts.push(
        '<circle cx="' + c + '" cy="' + c + '" r="' + r + '" fill="none" stroke="' + share[0] +
        '" stroke-width="6" stroke-dasharray="' + length.toFixed(2) + " " + (circumference - length).toFixed(2) +
        '" stroke-dashoffset="' + (-offset).toFixed(2) + '" transform="rotate(-90 ' + c + " " + c + ')"/>'
      );
      offset += length;
    });
    parts.push('<text x="' + c + '" y="' + (c + 4.2) + '" text-anchor="middle" font-size="12" font-weight="700" fill="' + INK + '" font-family="system-ui, sans-serif">' + count + "</text>");
    return '<svg width="' + size + '" height="' + size + '" viewBox="0 0 ' + size + " " + size + '" aria-hidden="true">' + parts.join("") + "</svg>";
  }

  function coverSvg(shape, colour) {
    var d = {
      dot: '<circle cx="8" cy="8" r="5" fill="' + colour + '" stroke="' + colour + '"/>',
      ring: '<circle cx="8" cy="8" r="4.5" fill="#ffffff" fill-opacity="0.3" stroke="' + colour + '" stroke-width="1.6"/>',
      up: '<path d="M8 2.5 13.5 12.5h-11z" fill="' + colour + '" stroke="' + colour + '"/>',
      down: '<path d="M8 13.5 2.5 3.5h11z" fill="' + colour + '" stroke="' + colour + '"/>'
    }[shape];
    return '<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">' + d + "</svg>";
  }

  // Demand points as small shapes (dot, ring, up or down triangle) on the SVG renderer.
  var ShapeMarker = null;
  function shapeMarkerClass() {
    if (ShapeMarker === null) {
      ShapeMarker = L.CircleMarker.extend({
        _updatePath: function () {
          var shape = this.options.shape;
          if (shape !== "up" && shape !== "down") {
            this._renderer._updateCircle(this);
            return;
          }
          var p = this._point;
          var r = this._radius + 1.5;
          var s = shape === "up" ? 1 : -1;
          this._renderer._setPath(
            this,
            "M" + p.x + " " + (p.y - s * r) + "L" + (p.x + r) + " " + (p.y + s * r * 0.8) +
            "L" + (p.x - r) + " " + (p.y + s * r * 0.8) + "z"
          );
        }
      });
    }
    return ShapeMarker;
  }

  // ------------------------------------------------------------------ clustering

  // Sites shown at `zoom`: each item is a site or a cluster standing at one of its
  // sites (its seed) with the sites within REACH pixels of it (along x and y). Seeds are
  // taken densest first and are at least REACH apart along x or y, and REACH is at least
  // the largest symbol plus the gap, so no two symbols on screen can overlap.
  function partition(points, zoom, project) {
    var xy = points.map(function (at) { return project(at, zoom); });
    var grid = {};
    var cellOf = function (p) { return [Math.floor(p.x / REACH), Math.floor(p.y / REACH)]; };
    xy.forEach(function (p, i) {
      var c = cellOf(p);
      (grid[c[0] + ":" + c[1]] = grid[c[0] + ":" + c[1]] || []).push(i);
    });
    var near = function (i, visit) {
      var c = cellOf(xy[i]);
      for (var dx = -1; dx <= 1; dx++) {
        for (var dy = -1; dy <= 1; dy++) {
          var cell = grid[c[0] + dx + ":" + (c[1] + dy)];
          for (var k = 0; cell && k < cell.length; k++) {
            var j = cell[k];
            if (Math.abs(xy[i].x - xy[j].x) < REACH && Math.abs(xy[i].y - xy[j].y) < REACH) {
              visit(j);
            }
          }
        }
      }
    };
    // How crowded each site's neighbourhood is: the sites in its cell and the eight round it.
    var density = xy.map(function (p) {
      var c = cellOf(p);
      var n = 0;
      for (var dx = -1; dx <= 1; dx++) {
        for (var dy = -1; dy <= 1; dy++) {
          n += (grid[c[0] + dx + ":" + (c[1] + dy)] || []).length;
        }
      }
      return n;
    });
    var order = xy.map(function (_, i) { return i; });
    order.sort(function (a, b) { return density[b] - density[a] || a - b; });
    var taken = new Uint8Array(xy.length);
    var items = [];
    order.forEach(function (i) {
      if (taken[i]) {
        return;
      }
      var members = [];
      near(i, function (j) {
        if (!taken[j]) {
          taken[j] = 1;
          members.push(j);
        }
      });
      // The seed first, so that a cluster's first member is where it stands.
      members.sort(function (a, b) { return (a === i ? -1 : 0) - (b === i ? -1 : 0) || a - b; });
      items.push({ x: xy[i].x, y: xy[i].y, members: members });
    });
    return items;
  }

  // ------------------------------------------------------------------ one map

  function Pane(map, data, symbols, shared, letter) {
    this.map = map;
    this.data = data;
    this.symbols = symbols;
    this.shared = shared; // {state, panes, differs}
    this.letter = letter;
    this.partitions = {};
    this.siteMarkers = {};
    this.shown = {};
    this.labels = [];
    this.spider = null;
    this.version = 0;
    this.differs = {};
    this.siteLayer = L.layerGroup().addTo(map);
    this.moveLayer = L.layerGroup();
    this.demandLayers = {};
    this.areaLayer = L.layerGroup();
    this.legLayer = L.layerGroup().addTo(map);
    this.initPanes();
    this.prepareSites();
  }

  Pane.prototype.initPanes = function () {
    var map = this.map;
    [["tc-areas", 350], ["tc-moves", 410], ["tc-demand", 420], ["tc-arrows", 450], ["tc-labels", 590]].forEach(function (p) {
      map.createPane(p[0]).style.zIndex = p[1];
    });
    map.getPane("tc-labels").style.pointerEvents = "none";
    this.renderers = {
      areas: L.svg({ pane: "tc-areas" }),
      moves: L.svg({ pane: "tc-moves" }),
      demand: L.svg({ pane: "tc-demand" })
    };
  };

  Pane.prototype.prepareSites = function () {
    var sites = this.data.sites;
    var n = sites.at.length;
    this.n = n;
    this.keySite = [];
    for (var i = 0; i < n; i++) {
      this.keySite.push(KEY_DECISIONS[sites.decisionKeys[sites.decision[i]]] === 1);
    }
    this.names = sites.popup.map(function (p) { return plainText(p[0]); });
  };

  // The year a step stands for: -Infinity today, +Infinity the plan, else a financial year.
  Pane.prototype.stepYear = function () {
    var state = this.shared.state;
    var years = this.data.years;
    if (state.step === 0) {
      return -Infinity;
    }
    if (!years || !this.shared.years) {
      return Infinity;
    }
    return this.shared.years[state.step - 1];
  };

  Pane.prototype.applies = function (year, when) {
    // A dated change applies from its year; an undated one from the first step after today.
    if (when === -Infinity) {
      return false;
    }
    return year === null || year === undefined || year <= when;
  };

  // Where each service is at the current step, and so what each site shows.
  Pane.prototype.siteStates = function () {
    var when = this.stepYear();
    var sites = this.data.sites;
    var services = this.data.services;
    var present = [];
    for (var i = 0; i < this.n; i++) {
      present.push([]);
    }
    for (var k = 0; k < services.type.length; k++) {
      var moved = services.from[k] !== services.to[k] && this.applies(services.year[k], when);
      present[moved ? services.to[k] : services.from[k]].push(k);
    }
    var states = [];
    for (i = 0; i < this.n; i++) {
      var planned = this.applies(sites.year[i], when);
      var key = planned ? sites.decisionKeys[sites.decision[i]] : null;
      var style;
      var colour;
      var label;
      if (planned) {
        var known = this.symbols.decisions[key];
        style = known ? known.style : this.symbols.unknown.style;
        colour = known ? known.colour : this.symbols.unknown.colour;
        label = known ? known.label : sites.extraDecisions[key];
      } else {
        var status = ["operational", "surplus", "candidate"][sites.status[i]];
        var today = this.symbols.today[status];
        style = today.style;
        colour = today.colour;
        label = today.label;
        key = "today-" + status;
      }
      var gone = planned && (key === "dispose" || key === "exit_lease" || key === "not_built");
      var list = present[i];
      if (gone) {
        // A site that goes shows what it housed today.
        list = [];
        for (k = 0; k < services.type.length; k++) {
          if (services.from[k] === i) {
            list.push(k);
          }
        }
      }
      var main = null;
      list.forEach(function (k) {
        if (main === null || services.space[k] > services.space[main]) {
          main = k;
        }
      });
      states.push({
        key: key,
        style: style,
        colour: this.shared.state.partners ? this.ownerColour(i) : colour,
        decisionColour: colour,
        label: label,
        type: main === null ? null : services.type[main],
        more: Math.max(0, list.length - 1)
      });
    }
    return states;
  };

  Pane.prototype.ownerColour = function (i) {
    return this.data.sites.ownerColours[this.data.sites.owner[i]];
  };

  Pane.prototype.typeOf = function (index) {
    return index === null ? { glyph: this.symbols.empty.glyph, initials: "" } : this.data.services.types[index];
  };

  Pane.prototype.refresh = function () {
    this.states = this.siteStates();
    this.version += 1;
    this.render();
    this.drawMoves();
    this.drawRequirement();
  };

  // ------------------------------------------------------------------ sites on screen

  Pane.prototype.siteMarker = function (i) {
    var marker = this.siteMarkers[i];
    if (!marker) {
      var pane = this;
      marker = L.marker(this.data.sites.at[i], { keyboard: true, riseOnHover: true });
      marker.on("add", function () {
        var node = marker.getElement();
        node.setAttribute("data-site", String(i));
        node.setAttribute("role", "button");
        node.setAttribute("aria-label", pane.names[i]);
      });
      marker.bindPopup(function () { return pane.sitePopup(i); }, { maxWidth: 380, autoPanPadding: [40, 40] });
      marker.bindTooltip(function () { return pane.siteTip(i); }, { direction: "top", offset: [0, -14] });
      this.siteMarkers[i] = marker;
    }
    if (marker._tcVersion !== this.version) {
      var state = this.states[i];
      var cls = "tc-marker tc-site tc-state-" + state.key + (this.differs[i] ? " tc-differs" : "");
      marker.setIcon(L.divIcon({
        className: cls,
        html: siteSvg(state.style, state.colour, this.typeOf(state.type), state.more),
        iconSize: [SIZE, SIZE]
      }));
      marker._tcVersion = this.version;
    }
    return marker;
  };

  Pane.prototype.sitePopup = function (i) {
    var values = this.data.sites.popup[i];
    var rows = this.data.sites.rows;
    var body = "";
    for (var r = 1; r < values.length; r++) {
      if (values[r] !== "") {
        body += "<tr><th>" + rows[r - 1] + "</th><td>" + values[r] + "</td></tr>";
      }
    }
    return '<div class="tc-popup tc-site-popup"><h4>' + values[0] + "</h4><table>" + body + "</table></div>";
  };

  Pane.prototype.siteTip = function (i) {
    var owner = this.data.sites.owners[this.data.sites.owner[i]];
    return this.data.sites.popup[i][0] + " · " + owner + " · " + this.states[i].label;
  };

  Pane.prototype.clusterMarker = function (item) {
    var pane = this;
    var counts = {};
    var order = [];
    var differs = false;
    item.members.forEach(function (i) {
      var colour = pane.states[i].colour;
      if (!(colour in counts)) {
        counts[colour] = 0;
        order.push(colour);
      }
      counts[colour] += 1;
      differs = differs || pane.differs[i] === true;
    });
    var size = clusterSize(item.members.length);
    var shares = order.map(function (c) { return [c, counts[c]]; });
    var marker = L.marker(this.map.unproject([item.x, item.y], this.map.getZoom()), {
      keyboard: true,
      riseOnHover: true,
      icon: L.divIcon({
        className: "tc-marker tc-cluster" + (differs ? " tc-differs" : ""),
        html: clusterSvg(size, shares, item.members.length, differs),
        iconSize: [size, size]
      })
    });
    marker.on("add", function () {
      var node = marker.getElement();
      node.setAttribute("data-count", String(item.members.length));
      node.setAttribute("role", "button");
      node.setAttribute("aria-label", item.members.length + " sites: click to open");
    });
    marker.bindTooltip(function () {
      var names = item.members.slice(0, 8).map(function (i) { return pane.data.sites.popup[i][0]; });
      var more = item.members.length - names.length;
      return "<b>" + item.members.length + " sites</b> (click to open)<br>" + names.join("<br>") +
        (more > 0 ? "<br>and " + more + " more" : "");
    }, { direction: "top", offset: [0, -size / 2] });
    marker.on("click", function () { pane.openCluster(item); });
    marker.on("keypress", function (event) {
      if (event.originalEvent.key === "Enter" || event.originalEvent.key === " ") {
        pane.openCluster(item);
      }
    });
    return marker;
  };

  Pane.prototype.currentPartition = function () {
    var zoom = this.map.getZoom();
    if (!this.partitions[zoom]) {
      var crs = this.map.options.crs;
      this.partitions[zoom] = partition(this.data.sites.at, zoom, function (at, z) {
        return crs.latLngToPoint(L.latLng(at[0], at[1]), z);
      });
    }
    return this.partitions[zoom];
  };

  Pane.prototype.render = function () {
    if (!this.states) {
      return;
    }
    var map = this.map;
    var items = this.currentPartition();
    var view = map.getPixelBounds().pad(0.25);
    var wanted = {};
    var visible = [];
    var pane = this;
    var spiderMembers = {};
    if (this.spider) {
      this.spider.members.forEach(function (i) { spiderMembers[i] = true; });
    }
    items.forEach(function (item, k) {
      if (!view.contains([item.x, item.y])) {
        return;
      }
      visible.push(item);
      if (item.members.length === 1) {
        var i = item.members[0];
        var marker = pane.siteMarker(i);
        if (!spiderMembers[i]) {
          marker.setLatLng(pane.data.sites.at[i]);
        }
        wanted["s" + i] = marker;
      } else {
        var key = "c" + map.getZoom() + ":" + k + ":" + pane.version;
        item.marker = item.key === key ? item.marker : pane.clusterMarker(item);
        item.key = key;
        wanted[key] = item.marker;
      }
    });
    Object.keys(spiderMembers).forEach(function (i) {
      wanted["s" + i] = pane.siteMarker(Number(i));
    });
    Object.keys(this.shown).forEach(function (key) {
      if (!(key in wanted)) {
        pane.siteLayer.removeLayer(pane.shown[key]);
      }
    });
    Object.keys(wanted).forEach(function (key) {
      if (!pane.siteLayer.hasLayer(wanted[key])) {
        pane.siteLayer.addLayer(wanted[key]);
      }
    });
    this.shown = wanted;
    this.visible = visible;
    this.placeLabels(visible);
  };

  // Names beside the sites the plan changes (all sites from zoom 14), wherever a name
  // fits without covering a symbol or another name.
  Pane.prototype.placeLabels = function (visible) {
    var pane = this;
    var map = this.map;
    this.labels.forEach(function (label) { map.removeLayer(label); });
    this.labels = [];
    if (!this.shared.state.names) {
      return;
    }
    var zoom = map.getZoom();
    var boxes = [];
    var grid = {};
    var add = function (box) {
      var k = boxes.length;
      boxes.push(box);
      for (var gx = Math.floor(box[0] / 100); gx <= Math.floor(box[2] / 100); gx++) {
        for (var gy = Math.floor(box[1] / 100); gy <= Math.floor(box[3] / 100); gy++) {
          (grid[gx + ":" + gy] = grid[gx + ":" + gy] || []).push(k);
        }
      }
    };
    var free = function (box) {
      for (var gx = Math.floor(box[0] / 100); gx <= Math.floor(box[2] / 100); gx++) {
        for (var gy = Math.floor(box[1] / 100); gy <= Math.floor(box[3] / 100); gy++) {
          var cell = grid[gx + ":" + gy] || [];
          for (var c = 0; c < cell.length; c++) {
            var b = boxes[cell[c]];
            if (box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3]) {
              return false;
            }
          }
        }
      }
      return true;
    };
    visible.forEach(function (item) {
      var half = boxSize(item.members.length) / 2 + 1;
      add([item.x - half, item.y - half, item.x + half, item.y + half]);
    });
    var singles = visible.filter(function (item) {
      var i = item.members[0];
      return item.members.length === 1 && (pane.keySite[i] || zoom >= ALL_NAMES_ZOOM);
    });
    singles.sort(function (a, b) {
      return pane.keySite[b.members[0]] - pane.keySite[a.members[0]] || a.members[0] - b.members[0];
    });
    var context = measuring();
    singles.forEach(function (item) {
      var i = item.members[0];
      var text = pane.names[i].length > 34 ? pane.names[i].slice(0, 32) + "…" : pane.names[i];
      var w = Math.ceil(context.measureText(text).width) + 8;
      var h = 16;
      var r = SIZE / 2 + 2;
      var spots = [
        [item.x + r, item.y - h / 2],
        [item.x - r - w, item.y - h / 2],
        [item.x - w / 2, item.y - r - h],
        [item.x - w / 2, item.y + r]
      ];
      for (var s = 0; s < spots.length; s++) {
        var box = [spots[s][0], spots[s][1], spots[s][0] + w, spots[s][1] + h];
        if (free(box)) {
          add(box);
          var anchor = [item.x - box[0], item.y - box[1]];
          var label = L.marker(pane.data.sites.at[i], {
            interactive: false,
            keyboard: false,
            pane: "tc-labels",
            icon: L.divIcon({
              className: "tc-label",
              html: "<span></span>",
              iconSize: [w, h],
              iconAnchor: anchor
            })
          });
          label.on("add", function () { label.getElement().firstChild.textContent = text; });
          label.addTo(map);
          pane.labels.push(label);
          break;
        }
      }
    });
  };

  Pane.prototype.openCluster = function (item) {
    var map = this.map;
    var bounds = L.latLngBounds(item.members.map(function (i) { return this.data.sites.at[i]; }, this));
    var padding = L.point(80, 80);
    var target = Math.min(map.getBoundsZoom(bounds, false, padding), map.getMaxZoom());
    this.closeSpider();
    if (target > map.getZoom()) {
      map.fitBounds(bounds, { padding: [40, 40], maxZoom: target, animate: animate() });
    } else {
      this.openSpider(item);
    }
  };

  // Spread the sites of a cluster whose sites share one spot round it, with leader lines.
  Pane.prototype.openSpider = function (item) {
    var map = this.map;
    var zoom = map.getZoom();
    var centre = map.unproject([item.x, item.y], zoom);
    var origin = map.latLngToLayerPoint(centre);
    var n = item.members.length;
    var pane = this;
    var spots = [];
    if (n <= 9) {
      var radius = Math.max(SIZE * 1.3, (n * (SIZE + 6)) / (2 * Math.PI));
      for (var k = 0; k < n; k++) {
        var angle = (2 * Math.PI * k) / n - Math.PI / 2;
        spots.push([radius * Math.cos(angle), radius * Math.sin(angle)]);
      }
    } else {
      var length = SIZE * 1.4;
      var turn = 0;
      for (k = 0; k < n; k++) {
        turn += (SIZE + 6) / length + k * 0.0005;
        spots.push([length * Math.cos(turn), length * Math.sin(turn)]);
        length += (2 * Math.PI * (SIZE + 6)) / (2 * Math.PI * 6) / Math.max(1, turn / 6);
      }
    }
    this.spider = { item: item, members: item.members.slice() };
    item.members.forEach(function (i, k) {
      var at = map.layerPointToLatLng(origin.add(spots[k]));
      L.polyline([centre, at], { color: INK, weight: 1.5, opacity: 0.7, interactive: false, className: "tc-leg" }).addTo(pane.legLayer);
      pane.siteMarker(i).setLatLng(at).setZIndexOffset(1000);
    });
    this.render();
    if (item.marker && item.marker.getElement()) {
      item.marker.getElement().classList.add("tc-spread");
    }
  };

  Pane.prototype.closeSpider = function () {
    if (!this.spider) {
      return;
    }
    var pane = this;
    this.spider.members.forEach(function (i) {
      pane.siteMarker(i).setLatLng(pane.data.sites.at[i]).setZIndexOffset(0);
    });
    if (this.spider.item.marker && this.spider.item.marker.getElement()) {
      this.spider.item.marker.getElement().classList.remove("tc-spread");
    }
    this.legLayer.clearLayers();
    this.spider = null;
    this.render();
  };

  // ------------------------------------------------------------------ moves

  // The moves of the current step, each a curve with an arrow head (made once per step).
  Pane.prototype.drawMoves = function () {
    var state = this.shared.state;
    var moves = this.data.moves;
    this.moveLayer.clearLayers();
    this.moveItems = [];
    if (!state.moves || !moves.length) {
      this.map.removeLayer(this.moveLayer);
      return;
    }
    var when = this.stepYear();
    var crs = this.map.options.crs;
    var sites = this.data.sites;
    var seen = {};
    var colour = this.symbols.move;
    var pane = this;
    moves.forEach(function (move, m) {
      if (!pane.applies(move.year, when)) {
        return;
      }
      var a = crs.latLngToPoint(L.latLng(sites.at[move.from]), 0);
      var b = crs.latLngToPoint(L.latLng(sites.at[move.to]), 0);
      // Moves between the same two sites bow apart, so none hides another.
      var pair = Math.min(move.from, move.to) + ":" + Math.max(move.from, move.to);
      var k = (seen[pair] = (seen[pair] || 0) + 1) - 1;
      var bow = (0.16 + 0.1 * Math.floor(k / 2)) * (k % 2 === 0 ? 1 : -1);
      var mid = a.add(b).divideBy(2);
      var control = mid.add(L.point(-(b.y - a.y), b.x - a.x).multiplyBy(bow));
      var along = function (t) {
        return a.multiplyBy((1 - t) * (1 - t)).add(control.multiplyBy(2 * t * (1 - t))).add(b.multiplyBy(t * t));
      };
      var line = [];
      for (var step = 0; step <= 16; step++) {
        line.push(crs.pointToLatLng(along(step / 16), 0));
      }
      var tip = function () { return move.popup[0] + ": " + move.popup[1] + " → " + move.popup[2]; };
      var popup = function () { return pane.movePopup(move); };
      var path = L.polyline(line, {
        color: colour,
        weight: 3,
        opacity: 0.9,
        renderer: pane.renderers.moves,
        className: "tc-move"
      }).bindPopup(popup, { maxWidth: 380 }).bindTooltip(tip, { sticky: true });
      // The arrow head a little past the middle, turned along the curve.
      var t0 = 0.62;
      var dir = control.subtract(a).multiplyBy(2 * (1 - t0)).add(b.subtract(control).multiplyBy(2 * t0));
      var angle = (Math.atan2(dir.y, dir.x) * 180) / Math.PI;
      var arrow = L.marker(crs.pointToLatLng(along(t0), 0), {
        pane: "tc-arrows",
        keyboard: false,
        icon: L.divIcon({
          className: "tc-arrow",
          html: '<svg width="22" height="22" viewBox="0 0 22 22" style="transform: rotate(' + angle.toFixed(1) +
            'deg)"><path d="M2.5 3 20 11 2.5 19 7 11z" fill="' + colour + '" stroke="#ffffff" stroke-width="1.4" stroke-linejoin="round"/></svg>',
          iconSize: [22, 22]
        })
      }).bindPopup(popup, { maxWidth: 380 }).bindTooltip(tip, { direction: "top" });
      arrow.on("add", function () { arrow.getElement().setAttribute("data-move", String(m)); });
      pane.moveItems.push({ move: move, layers: [path, arrow] });
    });
    this.moveLayer.addTo(this.map);
    this.showMoves();
  };

  // A move inside one cluster is hidden in it until the cluster opens.
  Pane.prototype.showMoves = function () {
    if (!this.moveItems || !this.moveItems.length) {
      return;
    }
    var itemOf = {};
    this.currentPartition().forEach(function (item, k) {
      item.members.forEach(function (i) { itemOf[i] = k; });
    });
    var layer = this.moveLayer;
    this.moveItems.forEach(function (entry) {
      var inside = itemOf[entry.move.from] === itemOf[entry.move.to];
      entry.layers.forEach(function (part) {
        if (inside && layer.hasLayer(part)) {
          layer.removeLayer(part);
        } else if (!inside && !layer.hasLayer(part)) {
          layer.addLayer(part);
        }
      });
    });
  };

  Pane.prototype.movePopup = function (move) {
    var rows = this.data.moveRows;
    var body = "";
    for (var r = 0; r < move.popup.length; r++) {
      if (move.popup[r] !== "") {
        body += "<tr><th>" + rows[r] + "</th><td>" + move.popup[r] + "</td></tr>";
      }
    }
    return '<div class="tc-popup tc-move-popup"><h4>' + move.title + "</h4><table>" + body + "</table></div>";
  };

  // ------------------------------------------------------------------ people and areas

  Pane.prototype.coverMode = function () {
    return this.shared.state.step === 0 ? "today" : "plan";
  };

  Pane.prototype.demandLayer = function (r, mode) {
    var key = r + ":" + mode;
    if (this.demandLayers[key]) {
      return this.demandLayers[key];
    }
    var requirement = this.data.requirements[r];
    var demand = this.data.demand;
    var table = mode === "today" ? this.symbols.coverToday : this.symbols.cover;
    var Shape = shapeMarkerClass();
    var layer = L.layerGroup();
    var renderer = this.renderers.demand;
    for (var d = 0; d < demand.at.length; d++) {
      var before = requirement.before.charAt(d) === "1";
      var after = requirement.after.charAt(d) === "1";
      var status;
      if (mode === "today") {
        status = before ? "covered" : "never";
      } else {
        status = before ? (after ? "covered" : "lost") : after ? "gained" : "never";
      }
      var look = table[status];
      var point = new Shape(demand.at[d], {
        renderer: renderer,
        shape: look.shape,
        radius: look.shape === "ring" ? 4.5 : 5,
        color: look.colour,
        weight: look.shape === "ring" ? 1.6 : 1,
        fillColor: look.shape === "ring" ? "#ffffff" : look.colour,
        fillOpacity: look.shape === "ring" ? 0.3 : 0.95,
        className: "tc-demand tc-cover-" + status
      });
      point.bindTooltip(
        demand.name[d] + " (" + number(demand.weight[d]) + " " + demand.unit + "): " + look.label +
        " — " + requirement.label,
        { direction: "top" }
      );
      layer.addLayer(point);
    }
    this.demandLayers[key] = layer;
    return layer;
  };

  // Sites that provide requirement `r` at the current step (open, housing one of its types).
  Pane.prototype.providing = function (r) {
    var requirement = this.data.requirements[r];
    var services = this.data.services;
    var when = this.stepYear();
    var wanted = {};
    requirement.types.forEach(function (t) { wanted[t] = true; });
    var open = {};
    for (var i = 0; i < this.n; i++) {
      var key = this.states[i].key;
      open[i] = !(key === "dispose" || key === "exit_lease" || key === "not_built" || key === "today-candidate");
    }
    var sites = {};
    for (var k = 0; k < services.type.length; k++) {
      if (!wanted[services.type[k]]) {
        continue;
      }
      var moved = services.from[k] !== services.to[k] && this.applies(services.year[k], when);
      var at = moved ? services.to[k] : services.from[k];
      if (open[at]) {
        sites[at] = true;
      }
    }
    return sites;
  };

  Pane.prototype.drawRequirement = function () {
    var map = this.map;
    var state = this.shared.state;
    var pane = this;
    Object.keys(this.demandLayers).forEach(function (key) { map.removeLayer(pane.demandLayers[key]); });
    this.areaLayer.clearLayers();
    var r = state.requirement;
    if (r < 0 || r >= this.data.requirements.length) {
      return;
    }
    var requirement = this.data.requirements[r];
    if (state.areas) {
      var mode = this.coverMode();
      var dated = this.data.years && state.step > 0;
      var providing = dated ? this.providing(r) : null;
      var colour = this.symbols.area;
      requirement.areas.forEach(function (area) {
        var shown = dated ? providing[area.site] === true : mode === "today" ? area.today : area.plan;
        if (!shown) {
          return;
        }
        var shape = L.geoJSON(area.shape, {
          renderer: pane.renderers.areas,
          style: function () {
            return { color: colour, weight: 1.5, fillColor: colour, fillOpacity: 0.2, className: "tc-area" };
          }
        });
        shape.bindTooltip(
          "Within " + requirement.minutes + " minutes of " + pane.data.sites.popup[area.site][0] +
          " (" + requirement.label + ")",
          { sticky: true }
        );
        pane.areaLayer.addLayer(shape);
      });
      this.areaLayer.addTo(map);
    }
    if (state.people && this.data.demand.at.length && requirement.before.length) {
      this.demandLayer(r, this.coverMode()).addTo(map);
    }
  };

  Pane.prototype.reset = function () {
    var b = this.data.bounds;
    this.map.invalidateSize({ pan: false });
    if (b) {
      this.map.fitBounds(b, { padding: [24, 24], animate: false });
    }
  };

  // ------------------------------------------------------------------ the side panel

  function button(text, attrs) {
    var node = el("button", Object.assign({ type: "button" }, attrs || {}));
    node.textContent = text;
    return node;
  }

  function checkbox(label, checked, cls, onChange) {
    var wrap = el("label", { class: "tc-check " + cls });
    var input = el("input", { type: "checkbox" });
    input.checked = checked;
    input.addEventListener("change", function () { onChange(input.checked); });
    wrap.appendChild(input);
    wrap.appendChild(document.createTextNode(" " + label));
    return wrap;
  }

  function Page(maps, payload, layout) {
    var page = this;
    maps.forEach(function (map, k) {
      map.getContainer().classList.add(layout === "comparison" ? ["tc-map-a", "tc-map-b"][k] : "tc-map");
      map.invalidateSize({ pan: false });
      map.setMaxZoom(MAX_ZOOM);
      L.control.zoom({ position: "bottomright" }).addTo(map);
      if (!animate()) {
        // Leaflet reads these options once, when the map is made: switch the effects off.
        map._zoomAnimated = false;
        map._fadeAnimated = false;
        map.getContainer().classList.remove("leaflet-zoom-anim", "leaflet-fade-anim");
        // Pans (as when a popup opens near the edge) jump rather than glide.
        map.panBy = function (offset, options) {
          return L.Map.prototype.panBy.call(this, offset, L.extend({}, options, { animate: false }));
        };
      }
    });
    this.payload = payload;
    this.symbols = payload.symbols;
    this.layout = layout;
    var years = null;
    payload.panes.forEach(function (pane) {
      (pane.years || []).forEach(function (y) {
        years = years || [];
        if (years.indexOf(y) < 0) {
          years.push(y);
        }
      });
    });
    if (years) {
      years.sort(function (a, b) { return a - b; });
    }
    var steps = years ? years.length : 1;
    this.shared = {
      years: years,
      state: {
        step: steps,
        lastStep: steps,
        requirement: payload.panes[0].requirements.length ? 0 : -1,
        areas: true,
        people: true,
        moves: true,
        names: true,
        partners: false,
        tiles: Boolean(payload.tiles)
      }
    };
    this.panes = maps.map(function (map, k) {
      payload.panes[k].requirements.forEach(function (requirement) {
        requirement.types = requirement.types || [];
      });
      return new Pane(map, payload.panes[k], page.symbols, page.shared, layout === "comparison" ? "AB"[k] : "");
    });
    this.side = document.getElementById("tc-side");
    this.build();
    this.panes.forEach(function (pane) {
      pane.map.on("zoomstart", function () { pane.closeSpider(); });
      pane.map.on("zoomend moveend", function () { pane.render(); });
      pane.map.on("zoomend", function () { pane.showMoves(); });
      pane.map.on("click", function () { pane.closeSpider(); });
      if (page.shared.state.tiles) {
        page.addTiles(pane);
      }
    });
    this.panes.forEach(function (pane) { pane.reset(); });
    this.update();
    window.addEventListener("beforeprint", function () {
      if (!document.body.classList.contains("tc-printing")) {
        page.preparePrint(page.paper || "A4");
      }
    });
    window.addEventListener("afterprint", function () { page.endPrint(); });
  }

  Page.prototype.update = function () {
    var panes = this.panes;
    panes.forEach(function (pane) { pane.refresh(); });
    this.buildLegend();
    this.updateControls();
  };

  Page.prototype.addTiles = function (pane) {
    var note = null;
    var loaded = 0;
    var layer = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 19,
      attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    });
    layer.on("tileload", function () {
      loaded += 1;
      if (note) {
        note.remove();
        note = null;
      }
    });
    layer.on("tileerror", function () {
      if (note || loaded > 0) {
        return;
      }
      note = L.control({ position: "topright" });
      note.onAdd = function () {
        return el("div", { class: "tc-tile-note", role: "status" },
          "The web map background could not be loaded (no internet connection?). " +
          "Sites, people and areas are all drawn without it.");
      };
      note.addTo(pane.map);
    });
    pane.tiles = layer;
    layer.addTo(pane.map);
  };

  Page.prototype.build = function () {
    var page = this;
    var side = this.side;
    var payload = this.payload;
    side.innerHTML = "";
    var head = el("header", { class: "tc-title" });
    if (this.layout === "comparison") {
      head.appendChild(el("h1", {}, "Two plans compared"));
      this.panes.forEach(function (pane) {
        head.appendChild(el("p", { class: "tc-pane-title" },
          "<b>" + pane.letter + "</b> " + pane.data.title + ' <span class="tc-subtitle">' + pane.data.subtitle + "</span>"));
      });
    } else {
      var data = payload.panes[0];
      head.appendChild(el("h1", {}, data.title));
      head.appendChild(el("p", { class: "tc-subtitle" }, data.subtitle));
      var table = el("table", { class: "tc-summary" });
      data.summary.forEach(function (row) {
        table.appendChild(el("tr", { class: row[2] }, "<th>" + row[0] + "</th><td>" + row[1] + "</td>"));
      });
      head.appendChild(table);
    }
    side.appendChild(head);

    var controls = el("section", { class: "tc-controls", "aria-label": "What to show" });
    controls.appendChild(el("h2", {}, "Show"));
    var views = el("div", { class: "tc-views", role: "group", "aria-label": "Today or after the plan" });
    this.todayButton = button("Today", { class: "tc-view-today" });
    this.planButton = button("After the plan", { class: "tc-view-plan" });
    this.todayButton.addEventListener("click", function () { page.setStep(0); });
    this.planButton.addEventListener("click", function () { page.setStep(page.shared.state.lastStep); });
    views.appendChild(this.todayButton);
    views.appendChild(this.planButton);
    controls.appendChild(views);
    if (this.shared.years) {
      var years = this.shared.years;
      var slider = el("div", { class: "tc-years" });
      this.yearLabel = el("div", { class: "tc-year-label", "aria-live": "polite" });
      this.yearInput = el("input", {
        type: "range", min: "0", max: String(years.length), step: "1", value: String(years.length),
        "aria-label": "Financial year of the programme"
      });
      this.yearInput.addEventListener("input", function () { page.setStep(Number(page.yearInput.value)); });
      slider.appendChild(this.yearLabel);
      slider.appendChild(this.yearInput);
      slider.appendChild(el("div", { class: "tc-year-ends" },
        "<span>Today</span><span>" + financialYear(years[years.length - 1]) + "</span>"));
      controls.appendChild(slider);
    }
    var requirements = payload.panes[0].requirements;
    if (requirements.length) {
      var fieldset = el("fieldset", { class: "tc-requirements" });
      fieldset.appendChild(el("legend", {}, "Standard"));
      requirements.concat([null]).forEach(function (requirement, r) {
        var index = requirement === null ? -1 : r;
        var label = el("label", { class: "tc-radio" });
        var input = el("input", { type: "radio", name: "tc-requirement", value: String(index) });
        input.checked = index === page.shared.state.requirement;
        input.addEventListener("change", function () {
          page.shared.state.requirement = index;
          page.update();
        });
        label.appendChild(input);
        label.appendChild(el("span", {}, requirement === null ? "None" : requirement.label));
        fieldset.appendChild(label);
      });
      controls.appendChild(fieldset);
    }
    var state = this.shared.state;
    var toggle = function (key) {
      return function (on) {
        state[key] = on;
        page.update();
      };
    };
    if (requirements.length) {
      controls.appendChild(checkbox("People reached (points)", state.people, "tc-toggle-people", toggle("people")));
      controls.appendChild(checkbox("Areas reached", state.areas, "tc-toggle-areas", toggle("areas")));
    }
    var anyMoves = payload.panes.some(function (p) { return p.moves.length > 0; });
    if (anyMoves) {
      controls.appendChild(checkbox("Service moves", state.moves, "tc-toggle-moves", toggle("moves")));
    }
    controls.appendChild(checkbox("Site names", state.names, "tc-toggle-names", toggle("names")));
    controls.appendChild(checkbox("Colour sites by partner", state.partners, "tc-toggle-partners", toggle("partners")));
    if (state.tiles) {
      controls.appendChild(checkbox("Web map background", true, "tc-toggle-tiles", function (on) {
        page.panes.forEach(function (pane) {
          if (on) {
            pane.tiles.addTo(pane.map);
          } else {
            pane.map.removeLayer(pane.tiles);
          }
        });
      }));
    }
    side.appendChild(controls);

    this.legend = el("section", { class: "tc-legend", "aria-label": "Legend" });
    side.appendChild(this.legend);

    var print = el("section", { class: "tc-print-buttons" });
    print.appendChild(el("h2", {}, "Print or save as PDF"));
    ["A4", "A3"].forEach(function (paper) {
      var b = button(paper + " landscape", { class: "tc-print-" + paper });
      b.addEventListener("click", function () { page.print(paper); });
      print.appendChild(b);
    });
    side.appendChild(print);
    if (!state.tiles) {
      side.appendChild(el("p", { class: "tc-note" },
        "Drawn without a web map background, so it works offline. " +
        "Add one with <code>--tiles</code> (needs internet)."));
    }
    if (this.layout === "comparison") {
      this.buildDifferences();
    }
  };

  Page.prototype.setStep = function (step) {
    this.shared.state.step = step;
    this.update();
  };

  Page.prototype.updateControls = function () {
    var state = this.shared.state;
    var today = state.step === 0;
    var plan = state.step === state.lastStep;
    this.todayButton.setAttribute("aria-pressed", String(today));
    this.planButton.setAttribute("aria-pressed", String(plan));
    if (this.yearInput) {
      this.yearInput.value = String(state.step);
      var years = this.shared.years;
      this.yearLabel.innerHTML = today
        ? "Today"
        : "Financial year <b>" + financialYear(years[state.step - 1]) + "</b>" + (plan ? " (plan complete)" : "");
    }
  };

  // ------------------------------------------------------------------ legend

  function keyRow(svg, label, cls) {
    return '<div class="tc-key ' + (cls || "") + '"><span class="tc-swatch">' + svg + "</span><span>" + label + "</span></div>";
  }

  Page.prototype.buildLegend = function () {
    var state = this.shared.state;
    var symbols = this.symbols;
    var html = ["<h2>Legend</h2>"];
    // What the buildings are used for, as now shown.
    var types = {};
    var empty = false;
    this.panes.forEach(function (pane) {
      pane.states.forEach(function (s) {
        if (s.type === null) {
          empty = true;
        } else {
          types[pane.data.services.types[s.type].label] = pane.data.services.types[s.type];
        }
      });
    });
    html.push("<h3>What the building is used for</h3>");
    Object.keys(types).sort().forEach(function (label) {
      html.push(keyRow(siteSvg("light", "#ffffff", types[label], 0), label, "tc-key-type"));
    });
    if (empty) {
      html.push(keyRow(siteSvg("light", "#ffffff", { glyph: symbols.empty.glyph }, 0), symbols.empty.label, "tc-key-type"));
    }
    html.push(keyRow(siteSvg("light", "#ffffff", this.panes[0].typeOf(null), 2).replace(/<g[\s\S]*?<\/g>/, ""), "More services in the building", "tc-key-type"));
    // What the plan does, by fill and outline (and colour unless partners are shown).
    var seen = {};
    var order = [];
    this.panes.forEach(function (pane) {
      pane.states.forEach(function (s) {
        if (!seen[s.key]) {
          seen[s.key] = s;
          order.push(s.key);
        }
      });
    });
    var ranking = Object.keys(symbols.today).map(function (k) { return "today-" + k; }).concat(Object.keys(symbols.decisions));
    order.sort(function (a, b) {
      var ra = ranking.indexOf(a);
      var rb = ranking.indexOf(b);
      return (ra < 0 ? 99 : ra) - (rb < 0 ? 99 : rb);
    });
    html.push("<h3>" + (state.step === 0 ? "The site today" : "What the plan does") + "</h3>");
    order.forEach(function (key) {
      var s = seen[key];
      var colour = state.partners ? INK : s.decisionColour;
      html.push(keyRow(siteSvg(s.style, colour, null, 0), s.label, "tc-key-decision"));
    });
    html.push(keyRow(clusterSvg(30, [[INK, 1]], "3", false), "Sites close together: click to open", "tc-key-cluster"));
    if (this.layout === "comparison") {
      html.push(keyRow(clusterSvg(30, [["#ffffff", 1]], "≠", true), "Decided differently in the two plans", "tc-key-differs"));
    }
    if (state.partners) {
      html.push("<h3>Partner</h3>");
      var owners = {};
      this.panes.forEach(function (pane) {
        pane.data.sites.owners.forEach(function (owner, k) {
          owners[owner] = pane.data.sites.ownerColours[k];
        });
      });
      var other = false;
      Object.keys(owners).sort().forEach(function (owner) {
        if (owners[owner] === symbols.other.colour) {
          other = true;
          return;
        }
        html.push(keyRow(siteSvg("solid", owners[owner], null, 0), owner, "tc-key-partner"));
      });
      if (other) {
        html.push(keyRow(siteSvg("solid", symbols.other.colour, null, 0), symbols.other.label, "tc-key-partner"));
      }
    }
    var r = state.requirement;
    var requirement = r >= 0 ? this.panes[0].data.requirements[r] : null;
    if (requirement && (state.people || state.areas)) {
      var mode = state.step === 0 ? "today" : "plan";
      html.push("<h3>" + requirement.label + "</h3>");
      if (state.people && requirement.before.length) {
        var table = mode === "today" ? symbols.coverToday : symbols.cover;
        var midway = this.shared.years && state.step > 0 && state.step < state.lastStep;
        Object.keys(table).forEach(function (status) {
          html.push(keyRow(coverSvg(table[status].shape, table[status].colour), table[status].label, "tc-key-cover"));
        });
        if (midway) {
          html.push('<p class="tc-note">People: today against the completed plan.</p>');
        }
      }
      if (state.areas && mode === "today" && !requirement.todayAreas && requirement.areas.length) {
        html.push('<p class="tc-note">This result holds only the areas reached after the plan; ' +
          "run the scenario again to see today's.</p>");
      } else if (state.areas && requirement.areas.length) {
        html.push(keyRow(
          '<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true"><rect x="1.5" y="3" width="13" height="10" rx="3" fill="' +
          symbols.area + '" fill-opacity="0.35" stroke="' + symbols.area + '" stroke-width="1.5"/></svg>',
          "Area reached within " + requirement.minutes + " minutes", "tc-key-area"));
      }
    }
    var moves = state.moves && state.step > 0 && this.panes.some(function (p) { return p.data.moves.length; });
    if (moves) {
      html.push(keyRow(
        '<svg width="24" height="16" viewBox="0 0 24 16" aria-hidden="true"><path d="M1 11C7 3 15 3 20 8" fill="none" stroke="' +
        symbols.move + '" stroke-width="2.5"/><path d="M15 4.5 22.5 9 14.5 11z" fill="' + symbols.move + '"/></svg>',
        "A service moves (arrow: which way)", "tc-key-move"));
    }
    this.legend.innerHTML = html.join("");
  };

  // ------------------------------------------------------------------ comparison table

  Page.prototype.buildDifferences = function () {
    var page = this;
    var diff = this.payload.differences;
    var box = document.getElementById("tc-diff");
    var a = this.payload.panes[0].name;
    var b = this.payload.panes[1].name;
    var parts = ['<h2>Differences</h2><div class="tc-diff-tables"><table class="tc-diff-totals"><thead><tr><th></th><th>A “' + a + '”</th><th>B “' + b + '”</th><th>B − A</th></tr></thead><tbody>'];
    diff.totals.forEach(function (row) {
      parts.push("<tr><th>" + row[0] + "</th><td>" + row[1] + "</td><td>" + row[2] + "</td><td>" + row[3] + "</td></tr>");
    });
    parts.push("</tbody></table>");
    parts.push('<table class="tc-diff-sites"><caption>' + (diff.sites.length ? diff.sites.length + " sites decided differently" : "Every site is decided the same way") +
      "</caption><thead><tr><th>Site</th><th>Partner</th><th>A</th><th>B</th></tr></thead><tbody>");
    diff.sites.forEach(function (row, k) {
      parts.push('<tr tabindex="0" data-row="' + k + '"><th>' + row.name + "</th><td>" + row.owner + "</td><td>" + row.was + "</td><td>" + row.now + "</td></tr>");
    });
    parts.push("</tbody></table>");
    if (diff.onlyA.length || diff.onlyB.length) {
      parts.push('<p class="tc-note">Only in A: ' + (diff.onlyA.join(", ") || "none") + ". Only in B: " + (diff.onlyB.join(", ") || "none") + ".</p>");
    }
    parts.push("</div>");
    box.innerHTML = parts.join("");
    diff.sites.forEach(function (row) {
      page.panes[0].differs[row.a] = true;
      page.panes[1].differs[row.b] = true;
    });
    box.querySelectorAll("tr[data-row]").forEach(function (tr) {
      var open = function () {
        var row = diff.sites[Number(tr.getAttribute("data-row"))];
        page.panes[0].map.setView(page.panes[0].data.sites.at[row.a], 17, { animate: animate() });
        page.panes[1].siteMarker(row.b).openPopup();
      };
      tr.addEventListener("click", open);
      tr.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          open();
        }
      });
    });
  };

  // ------------------------------------------------------------------ printing

  Page.prototype.preparePrint = function (paper) {
    var size = PAPER[paper];
    var style = document.getElementById("tc-page-size") || el("style", { id: "tc-page-size" });
    style.textContent = "@page { size: " + paper + " landscape; margin: " + PRINT_MARGIN_MM + "mm; }" +
      "body.tc-printing { width: " + (size[0] - 2 * PRINT_MARGIN_MM) + "mm; height: " + (size[1] - 2 * PRINT_MARGIN_MM) + "mm; }";
    document.head.appendChild(style);
    document.body.classList.add("tc-printing");
    document.body.setAttribute("data-paper", paper);
    if (this.layout !== "comparison") {
      // On paper the legend runs in columns under the map; the panel keeps the figures.
      var strip = document.getElementById("tc-print-legend") || el("div", { id: "tc-print-legend", class: "tc-print-legend" });
      document.body.appendChild(strip);
      strip.appendChild(this.legend);
    }
    this.panes.forEach(function (pane) {
      pane.closeSpider();
      pane.saved = [pane.map.getCenter(), pane.map.getZoom()];
      pane.map.invalidateSize({ pan: false });
      pane.reset();
      pane.render();
    });
  };

  Page.prototype.endPrint = function () {
    if (!document.body.classList.contains("tc-printing")) {
      return;
    }
    document.body.classList.remove("tc-printing");
    if (this.legend.parentNode !== this.side) {
      this.side.insertBefore(this.legend, this.side.querySelector(".tc-print-buttons"));
    }
    this.panes.forEach(function (pane) {
      pane.map.invalidateSize({ pan: false });
      if (pane.saved) {
        pane.map.setView(pane.saved[0], pane.saved[1], { animate: false });
      }
    });
  };

  Page.prototype.print = function (paper) {
    this.paper = paper;
    this.preparePrint(paper);
    var page = this;
    // Let the maps draw at the paper's size before the print dialog takes its picture.
    window.setTimeout(function () {
      window.print();
      page.paper = null;
    }, 150);
  };

  // ------------------------------------------------------------------ entry points

  function follow(source, target) {
    var busy = false;
    source.on("move", function () {
      if (busy || target._tcFollowing) {
        return;
      }
      busy = true;
      source._tcFollowing = true;
      target.setView(source.getCenter(), source.getZoom(), { animate: false });
      source._tcFollowing = false;
      busy = false;
    });
  }

  var api = {
    pages: [],
    scenario: function (maps, payload) {
      var page = new Page(maps, payload, "single");
      api.pages.push(page);
      return page;
    },
    comparison: function (maps, payload) {
      follow(maps[0], maps[1]);
      follow(maps[1], maps[0]);
      var page = new Page(maps, payload, "comparison");
      api.pages.push(page);
      return page;
    },
    partition: partition
  };
  window.totalcapital = api;
})();
