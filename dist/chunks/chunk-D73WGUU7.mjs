import { createRequire as __atocoreDrillCreateRequire } from 'node:module';
import { fileURLToPath as __atocoreDrillFileURLToPath } from 'node:url';
import { dirname as __atocoreDrillDirname } from 'node:path';
const require = __atocoreDrillCreateRequire(import.meta.url);
const __filename = __atocoreDrillFileURLToPath(import.meta.url);
const __dirname = __atocoreDrillDirname(__filename);
import {
  appendKnownHost,
  fingerprint,
  hostKeyAlgorithmsFor,
  verifyHostKey
} from "./chunk-CYWEGZLK.mjs";
import {
  FieldError,
  formatSshAddress,
  renderRemoteCommand
} from "./chunk-5U54YLIR.mjs";
import {
  scratchError
} from "./chunk-WXOIO7VX.mjs";
import {
  require_is_stream
} from "./chunk-6O2J3H5G.mjs";
import {
  BoundedText
} from "./chunk-KVSBDLHU.mjs";
import {
  formatDuration
} from "./chunk-GIZ3PXLO.mjs";
import {
  DrillError,
  InfrastructureError,
  UsageError,
  errorMessage
} from "./chunk-NLENNPWZ.mjs";
import {
  require_lib
} from "./chunk-WTQTT4EL.mjs";
import {
  __commonJS,
  __require,
  __toESM
} from "./chunk-DSYZ63NL.mjs";

// node_modules/semver/semver.js
var require_semver = __commonJS({
  "node_modules/semver/semver.js"(exports, module) {
    exports = module.exports = SemVer;
    var debug;
    if (typeof process === "object" && process.env && process.env.NODE_DEBUG && /\bsemver\b/i.test(process.env.NODE_DEBUG)) {
      debug = function() {
        var args = Array.prototype.slice.call(arguments, 0);
        args.unshift("SEMVER");
        console.log.apply(console, args);
      };
    } else {
      debug = function() {
      };
    }
    exports.SEMVER_SPEC_VERSION = "2.0.0";
    var MAX_LENGTH = 256;
    var MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER || /* istanbul ignore next */
    9007199254740991;
    var MAX_SAFE_COMPONENT_LENGTH = 16;
    var MAX_SAFE_BUILD_LENGTH = MAX_LENGTH - 6;
    var re = exports.re = [];
    var safeRe = exports.safeRe = [];
    var src = exports.src = [];
    var t = exports.tokens = {};
    var R = 0;
    function tok(n) {
      t[n] = R++;
    }
    var LETTERDASHNUMBER = "[a-zA-Z0-9-]";
    var safeRegexReplacements = [
      ["\\s", 1],
      ["\\d", MAX_LENGTH],
      [LETTERDASHNUMBER, MAX_SAFE_BUILD_LENGTH]
    ];
    function makeSafeRe(value) {
      for (var i2 = 0; i2 < safeRegexReplacements.length; i2++) {
        var token = safeRegexReplacements[i2][0];
        var max = safeRegexReplacements[i2][1];
        value = value.split(token + "*").join(token + "{0," + max + "}").split(token + "+").join(token + "{1," + max + "}");
      }
      return value;
    }
    tok("NUMERICIDENTIFIER");
    src[t.NUMERICIDENTIFIER] = "0|[1-9]\\d*";
    tok("NUMERICIDENTIFIERLOOSE");
    src[t.NUMERICIDENTIFIERLOOSE] = "\\d+";
    tok("NONNUMERICIDENTIFIER");
    src[t.NONNUMERICIDENTIFIER] = "\\d*[a-zA-Z-]" + LETTERDASHNUMBER + "*";
    tok("MAINVERSION");
    src[t.MAINVERSION] = "(" + src[t.NUMERICIDENTIFIER] + ")\\.(" + src[t.NUMERICIDENTIFIER] + ")\\.(" + src[t.NUMERICIDENTIFIER] + ")";
    tok("MAINVERSIONLOOSE");
    src[t.MAINVERSIONLOOSE] = "(" + src[t.NUMERICIDENTIFIERLOOSE] + ")\\.(" + src[t.NUMERICIDENTIFIERLOOSE] + ")\\.(" + src[t.NUMERICIDENTIFIERLOOSE] + ")";
    tok("PRERELEASEIDENTIFIER");
    src[t.PRERELEASEIDENTIFIER] = "(?:" + src[t.NUMERICIDENTIFIER] + "|" + src[t.NONNUMERICIDENTIFIER] + ")";
    tok("PRERELEASEIDENTIFIERLOOSE");
    src[t.PRERELEASEIDENTIFIERLOOSE] = "(?:" + src[t.NUMERICIDENTIFIERLOOSE] + "|" + src[t.NONNUMERICIDENTIFIER] + ")";
    tok("PRERELEASE");
    src[t.PRERELEASE] = "(?:-(" + src[t.PRERELEASEIDENTIFIER] + "(?:\\." + src[t.PRERELEASEIDENTIFIER] + ")*))";
    tok("PRERELEASELOOSE");
    src[t.PRERELEASELOOSE] = "(?:-?(" + src[t.PRERELEASEIDENTIFIERLOOSE] + "(?:\\." + src[t.PRERELEASEIDENTIFIERLOOSE] + ")*))";
    tok("BUILDIDENTIFIER");
    src[t.BUILDIDENTIFIER] = LETTERDASHNUMBER + "+";
    tok("BUILD");
    src[t.BUILD] = "(?:\\+(" + src[t.BUILDIDENTIFIER] + "(?:\\." + src[t.BUILDIDENTIFIER] + ")*))";
    tok("FULL");
    tok("FULLPLAIN");
    src[t.FULLPLAIN] = "v?" + src[t.MAINVERSION] + src[t.PRERELEASE] + "?" + src[t.BUILD] + "?";
    src[t.FULL] = "^" + src[t.FULLPLAIN] + "$";
    tok("LOOSEPLAIN");
    src[t.LOOSEPLAIN] = "[v=\\s]*" + src[t.MAINVERSIONLOOSE] + src[t.PRERELEASELOOSE] + "?" + src[t.BUILD] + "?";
    tok("LOOSE");
    src[t.LOOSE] = "^" + src[t.LOOSEPLAIN] + "$";
    tok("GTLT");
    src[t.GTLT] = "((?:<|>)?=?)";
    tok("XRANGEIDENTIFIERLOOSE");
    src[t.XRANGEIDENTIFIERLOOSE] = src[t.NUMERICIDENTIFIERLOOSE] + "|x|X|\\*";
    tok("XRANGEIDENTIFIER");
    src[t.XRANGEIDENTIFIER] = src[t.NUMERICIDENTIFIER] + "|x|X|\\*";
    tok("XRANGEPLAIN");
    src[t.XRANGEPLAIN] = "[v=\\s]*(" + src[t.XRANGEIDENTIFIER] + ")(?:\\.(" + src[t.XRANGEIDENTIFIER] + ")(?:\\.(" + src[t.XRANGEIDENTIFIER] + ")(?:" + src[t.PRERELEASE] + ")?" + src[t.BUILD] + "?)?)?";
    tok("XRANGEPLAINLOOSE");
    src[t.XRANGEPLAINLOOSE] = "[v=\\s]*(" + src[t.XRANGEIDENTIFIERLOOSE] + ")(?:\\.(" + src[t.XRANGEIDENTIFIERLOOSE] + ")(?:\\.(" + src[t.XRANGEIDENTIFIERLOOSE] + ")(?:" + src[t.PRERELEASELOOSE] + ")?" + src[t.BUILD] + "?)?)?";
    tok("XRANGE");
    src[t.XRANGE] = "^" + src[t.GTLT] + "\\s*" + src[t.XRANGEPLAIN] + "$";
    tok("XRANGELOOSE");
    src[t.XRANGELOOSE] = "^" + src[t.GTLT] + "\\s*" + src[t.XRANGEPLAINLOOSE] + "$";
    tok("COERCE");
    src[t.COERCE] = "(^|[^\\d])(\\d{1," + MAX_SAFE_COMPONENT_LENGTH + "})(?:\\.(\\d{1," + MAX_SAFE_COMPONENT_LENGTH + "}))?(?:\\.(\\d{1," + MAX_SAFE_COMPONENT_LENGTH + "}))?(?:$|[^\\d])";
    tok("COERCERTL");
    re[t.COERCERTL] = new RegExp(src[t.COERCE], "g");
    safeRe[t.COERCERTL] = new RegExp(makeSafeRe(src[t.COERCE]), "g");
    tok("LONETILDE");
    src[t.LONETILDE] = "(?:~>?)";
    tok("TILDETRIM");
    src[t.TILDETRIM] = "(\\s*)" + src[t.LONETILDE] + "\\s+";
    re[t.TILDETRIM] = new RegExp(src[t.TILDETRIM], "g");
    safeRe[t.TILDETRIM] = new RegExp(makeSafeRe(src[t.TILDETRIM]), "g");
    var tildeTrimReplace = "$1~";
    tok("TILDE");
    src[t.TILDE] = "^" + src[t.LONETILDE] + src[t.XRANGEPLAIN] + "$";
    tok("TILDELOOSE");
    src[t.TILDELOOSE] = "^" + src[t.LONETILDE] + src[t.XRANGEPLAINLOOSE] + "$";
    tok("LONECARET");
    src[t.LONECARET] = "(?:\\^)";
    tok("CARETTRIM");
    src[t.CARETTRIM] = "(\\s*)" + src[t.LONECARET] + "\\s+";
    re[t.CARETTRIM] = new RegExp(src[t.CARETTRIM], "g");
    safeRe[t.CARETTRIM] = new RegExp(makeSafeRe(src[t.CARETTRIM]), "g");
    var caretTrimReplace = "$1^";
    tok("CARET");
    src[t.CARET] = "^" + src[t.LONECARET] + src[t.XRANGEPLAIN] + "$";
    tok("CARETLOOSE");
    src[t.CARETLOOSE] = "^" + src[t.LONECARET] + src[t.XRANGEPLAINLOOSE] + "$";
    tok("COMPARATORLOOSE");
    src[t.COMPARATORLOOSE] = "^" + src[t.GTLT] + "\\s*(" + src[t.LOOSEPLAIN] + ")$|^$";
    tok("COMPARATOR");
    src[t.COMPARATOR] = "^" + src[t.GTLT] + "\\s*(" + src[t.FULLPLAIN] + ")$|^$";
    tok("COMPARATORTRIM");
    src[t.COMPARATORTRIM] = "(\\s*)" + src[t.GTLT] + "\\s*(" + src[t.LOOSEPLAIN] + "|" + src[t.XRANGEPLAIN] + ")";
    re[t.COMPARATORTRIM] = new RegExp(src[t.COMPARATORTRIM], "g");
    safeRe[t.COMPARATORTRIM] = new RegExp(makeSafeRe(src[t.COMPARATORTRIM]), "g");
    tok("HYPHENRANGE");
    src[t.HYPHENRANGE] = "^\\s*(" + src[t.XRANGEPLAIN] + ")\\s+-\\s+(" + src[t.XRANGEPLAIN] + ")\\s*$";
    tok("HYPHENRANGELOOSE");
    src[t.HYPHENRANGELOOSE] = "^\\s*(" + src[t.XRANGEPLAINLOOSE] + ")\\s+-\\s+(" + src[t.XRANGEPLAINLOOSE] + ")\\s*$";
    tok("STAR");
    src[t.STAR] = "(<|>)?=?\\s*\\*";
    for (i = 0; i < R; i++) {
      debug(i, src[i]);
      if (!re[i]) {
        re[i] = new RegExp(src[i]);
        safeRe[i] = new RegExp(makeSafeRe(src[i]));
      }
    }
    var i;
    exports.parse = parse;
    function parse(version, options) {
      if (!options || typeof options !== "object") {
        options = {
          loose: !!options,
          includePrerelease: false
        };
      }
      if (version instanceof SemVer) {
        return version;
      }
      if (typeof version !== "string") {
        return null;
      }
      if (version.length > MAX_LENGTH) {
        return null;
      }
      var r = options.loose ? safeRe[t.LOOSE] : safeRe[t.FULL];
      if (!r.test(version)) {
        return null;
      }
      try {
        return new SemVer(version, options);
      } catch (er) {
        return null;
      }
    }
    exports.valid = valid;
    function valid(version, options) {
      var v = parse(version, options);
      return v ? v.version : null;
    }
    exports.clean = clean;
    function clean(version, options) {
      var s = parse(version.trim().replace(/^[=v]+/, ""), options);
      return s ? s.version : null;
    }
    exports.SemVer = SemVer;
    function SemVer(version, options) {
      if (!options || typeof options !== "object") {
        options = {
          loose: !!options,
          includePrerelease: false
        };
      }
      if (version instanceof SemVer) {
        if (version.loose === options.loose) {
          return version;
        } else {
          version = version.version;
        }
      } else if (typeof version !== "string") {
        throw new TypeError("Invalid Version: " + version);
      }
      if (version.length > MAX_LENGTH) {
        throw new TypeError("version is longer than " + MAX_LENGTH + " characters");
      }
      if (!(this instanceof SemVer)) {
        return new SemVer(version, options);
      }
      debug("SemVer", version, options);
      this.options = options;
      this.loose = !!options.loose;
      var m = version.trim().match(options.loose ? safeRe[t.LOOSE] : safeRe[t.FULL]);
      if (!m) {
        throw new TypeError("Invalid Version: " + version);
      }
      this.raw = version;
      this.major = +m[1];
      this.minor = +m[2];
      this.patch = +m[3];
      if (this.major > MAX_SAFE_INTEGER || this.major < 0) {
        throw new TypeError("Invalid major version");
      }
      if (this.minor > MAX_SAFE_INTEGER || this.minor < 0) {
        throw new TypeError("Invalid minor version");
      }
      if (this.patch > MAX_SAFE_INTEGER || this.patch < 0) {
        throw new TypeError("Invalid patch version");
      }
      if (!m[4]) {
        this.prerelease = [];
      } else {
        this.prerelease = m[4].split(".").map(function(id) {
          if (/^[0-9]+$/.test(id)) {
            var num = +id;
            if (num >= 0 && num < MAX_SAFE_INTEGER) {
              return num;
            }
          }
          return id;
        });
      }
      this.build = m[5] ? m[5].split(".") : [];
      this.format();
    }
    SemVer.prototype.format = function() {
      this.version = this.major + "." + this.minor + "." + this.patch;
      if (this.prerelease.length) {
        this.version += "-" + this.prerelease.join(".");
      }
      return this.version;
    };
    SemVer.prototype.toString = function() {
      return this.version;
    };
    SemVer.prototype.compare = function(other) {
      debug("SemVer.compare", this.version, this.options, other);
      if (!(other instanceof SemVer)) {
        other = new SemVer(other, this.options);
      }
      return this.compareMain(other) || this.comparePre(other);
    };
    SemVer.prototype.compareMain = function(other) {
      if (!(other instanceof SemVer)) {
        other = new SemVer(other, this.options);
      }
      return compareIdentifiers(this.major, other.major) || compareIdentifiers(this.minor, other.minor) || compareIdentifiers(this.patch, other.patch);
    };
    SemVer.prototype.comparePre = function(other) {
      if (!(other instanceof SemVer)) {
        other = new SemVer(other, this.options);
      }
      if (this.prerelease.length && !other.prerelease.length) {
        return -1;
      } else if (!this.prerelease.length && other.prerelease.length) {
        return 1;
      } else if (!this.prerelease.length && !other.prerelease.length) {
        return 0;
      }
      var i2 = 0;
      do {
        var a = this.prerelease[i2];
        var b = other.prerelease[i2];
        debug("prerelease compare", i2, a, b);
        if (a === void 0 && b === void 0) {
          return 0;
        } else if (b === void 0) {
          return 1;
        } else if (a === void 0) {
          return -1;
        } else if (a === b) {
          continue;
        } else {
          return compareIdentifiers(a, b);
        }
      } while (++i2);
    };
    SemVer.prototype.compareBuild = function(other) {
      if (!(other instanceof SemVer)) {
        other = new SemVer(other, this.options);
      }
      var i2 = 0;
      do {
        var a = this.build[i2];
        var b = other.build[i2];
        debug("prerelease compare", i2, a, b);
        if (a === void 0 && b === void 0) {
          return 0;
        } else if (b === void 0) {
          return 1;
        } else if (a === void 0) {
          return -1;
        } else if (a === b) {
          continue;
        } else {
          return compareIdentifiers(a, b);
        }
      } while (++i2);
    };
    SemVer.prototype.inc = function(release, identifier) {
      switch (release) {
        case "premajor":
          this.prerelease.length = 0;
          this.patch = 0;
          this.minor = 0;
          this.major++;
          this.inc("pre", identifier);
          break;
        case "preminor":
          this.prerelease.length = 0;
          this.patch = 0;
          this.minor++;
          this.inc("pre", identifier);
          break;
        case "prepatch":
          this.prerelease.length = 0;
          this.inc("patch", identifier);
          this.inc("pre", identifier);
          break;
        // If the input is a non-prerelease version, this acts the same as
        // prepatch.
        case "prerelease":
          if (this.prerelease.length === 0) {
            this.inc("patch", identifier);
          }
          this.inc("pre", identifier);
          break;
        case "major":
          if (this.minor !== 0 || this.patch !== 0 || this.prerelease.length === 0) {
            this.major++;
          }
          this.minor = 0;
          this.patch = 0;
          this.prerelease = [];
          break;
        case "minor":
          if (this.patch !== 0 || this.prerelease.length === 0) {
            this.minor++;
          }
          this.patch = 0;
          this.prerelease = [];
          break;
        case "patch":
          if (this.prerelease.length === 0) {
            this.patch++;
          }
          this.prerelease = [];
          break;
        // This probably shouldn't be used publicly.
        // 1.0.0 "pre" would become 1.0.0-0 which is the wrong direction.
        case "pre":
          if (this.prerelease.length === 0) {
            this.prerelease = [0];
          } else {
            var i2 = this.prerelease.length;
            while (--i2 >= 0) {
              if (typeof this.prerelease[i2] === "number") {
                this.prerelease[i2]++;
                i2 = -2;
              }
            }
            if (i2 === -1) {
              this.prerelease.push(0);
            }
          }
          if (identifier) {
            if (this.prerelease[0] === identifier) {
              if (isNaN(this.prerelease[1])) {
                this.prerelease = [identifier, 0];
              }
            } else {
              this.prerelease = [identifier, 0];
            }
          }
          break;
        default:
          throw new Error("invalid increment argument: " + release);
      }
      this.format();
      this.raw = this.version;
      return this;
    };
    exports.inc = inc;
    function inc(version, release, loose, identifier) {
      if (typeof loose === "string") {
        identifier = loose;
        loose = void 0;
      }
      try {
        return new SemVer(version, loose).inc(release, identifier).version;
      } catch (er) {
        return null;
      }
    }
    exports.diff = diff;
    function diff(version1, version2) {
      if (eq(version1, version2)) {
        return null;
      } else {
        var v1 = parse(version1);
        var v2 = parse(version2);
        var prefix = "";
        if (v1.prerelease.length || v2.prerelease.length) {
          prefix = "pre";
          var defaultResult = "prerelease";
        }
        for (var key in v1) {
          if (key === "major" || key === "minor" || key === "patch") {
            if (v1[key] !== v2[key]) {
              return prefix + key;
            }
          }
        }
        return defaultResult;
      }
    }
    exports.compareIdentifiers = compareIdentifiers;
    var numeric = /^[0-9]+$/;
    function compareIdentifiers(a, b) {
      var anum = numeric.test(a);
      var bnum = numeric.test(b);
      if (anum && bnum) {
        a = +a;
        b = +b;
      }
      return a === b ? 0 : anum && !bnum ? -1 : bnum && !anum ? 1 : a < b ? -1 : 1;
    }
    exports.rcompareIdentifiers = rcompareIdentifiers;
    function rcompareIdentifiers(a, b) {
      return compareIdentifiers(b, a);
    }
    exports.major = major;
    function major(a, loose) {
      return new SemVer(a, loose).major;
    }
    exports.minor = minor;
    function minor(a, loose) {
      return new SemVer(a, loose).minor;
    }
    exports.patch = patch;
    function patch(a, loose) {
      return new SemVer(a, loose).patch;
    }
    exports.compare = compare;
    function compare(a, b, loose) {
      return new SemVer(a, loose).compare(new SemVer(b, loose));
    }
    exports.compareLoose = compareLoose;
    function compareLoose(a, b) {
      return compare(a, b, true);
    }
    exports.compareBuild = compareBuild;
    function compareBuild(a, b, loose) {
      var versionA = new SemVer(a, loose);
      var versionB = new SemVer(b, loose);
      return versionA.compare(versionB) || versionA.compareBuild(versionB);
    }
    exports.rcompare = rcompare;
    function rcompare(a, b, loose) {
      return compare(b, a, loose);
    }
    exports.sort = sort;
    function sort(list, loose) {
      return list.sort(function(a, b) {
        return exports.compareBuild(a, b, loose);
      });
    }
    exports.rsort = rsort;
    function rsort(list, loose) {
      return list.sort(function(a, b) {
        return exports.compareBuild(b, a, loose);
      });
    }
    exports.gt = gt;
    function gt(a, b, loose) {
      return compare(a, b, loose) > 0;
    }
    exports.lt = lt;
    function lt(a, b, loose) {
      return compare(a, b, loose) < 0;
    }
    exports.eq = eq;
    function eq(a, b, loose) {
      return compare(a, b, loose) === 0;
    }
    exports.neq = neq;
    function neq(a, b, loose) {
      return compare(a, b, loose) !== 0;
    }
    exports.gte = gte;
    function gte(a, b, loose) {
      return compare(a, b, loose) >= 0;
    }
    exports.lte = lte;
    function lte(a, b, loose) {
      return compare(a, b, loose) <= 0;
    }
    exports.cmp = cmp;
    function cmp(a, op, b, loose) {
      switch (op) {
        case "===":
          if (typeof a === "object")
            a = a.version;
          if (typeof b === "object")
            b = b.version;
          return a === b;
        case "!==":
          if (typeof a === "object")
            a = a.version;
          if (typeof b === "object")
            b = b.version;
          return a !== b;
        case "":
        case "=":
        case "==":
          return eq(a, b, loose);
        case "!=":
          return neq(a, b, loose);
        case ">":
          return gt(a, b, loose);
        case ">=":
          return gte(a, b, loose);
        case "<":
          return lt(a, b, loose);
        case "<=":
          return lte(a, b, loose);
        default:
          throw new TypeError("Invalid operator: " + op);
      }
    }
    exports.Comparator = Comparator;
    function Comparator(comp, options) {
      if (!options || typeof options !== "object") {
        options = {
          loose: !!options,
          includePrerelease: false
        };
      }
      if (comp instanceof Comparator) {
        if (comp.loose === !!options.loose) {
          return comp;
        } else {
          comp = comp.value;
        }
      }
      if (!(this instanceof Comparator)) {
        return new Comparator(comp, options);
      }
      comp = comp.trim().split(/\s+/).join(" ");
      debug("comparator", comp, options);
      this.options = options;
      this.loose = !!options.loose;
      this.parse(comp);
      if (this.semver === ANY) {
        this.value = "";
      } else {
        this.value = this.operator + this.semver.version;
      }
      debug("comp", this);
    }
    var ANY = {};
    Comparator.prototype.parse = function(comp) {
      var r = this.options.loose ? safeRe[t.COMPARATORLOOSE] : safeRe[t.COMPARATOR];
      var m = comp.match(r);
      if (!m) {
        throw new TypeError("Invalid comparator: " + comp);
      }
      this.operator = m[1] !== void 0 ? m[1] : "";
      if (this.operator === "=") {
        this.operator = "";
      }
      if (!m[2]) {
        this.semver = ANY;
      } else {
        this.semver = new SemVer(m[2], this.options.loose);
      }
    };
    Comparator.prototype.toString = function() {
      return this.value;
    };
    Comparator.prototype.test = function(version) {
      debug("Comparator.test", version, this.options.loose);
      if (this.semver === ANY || version === ANY) {
        return true;
      }
      if (typeof version === "string") {
        try {
          version = new SemVer(version, this.options);
        } catch (er) {
          return false;
        }
      }
      return cmp(version, this.operator, this.semver, this.options);
    };
    Comparator.prototype.intersects = function(comp, options) {
      if (!(comp instanceof Comparator)) {
        throw new TypeError("a Comparator is required");
      }
      if (!options || typeof options !== "object") {
        options = {
          loose: !!options,
          includePrerelease: false
        };
      }
      var rangeTmp;
      if (this.operator === "") {
        if (this.value === "") {
          return true;
        }
        rangeTmp = new Range(comp.value, options);
        return satisfies(this.value, rangeTmp, options);
      } else if (comp.operator === "") {
        if (comp.value === "") {
          return true;
        }
        rangeTmp = new Range(this.value, options);
        return satisfies(comp.semver, rangeTmp, options);
      }
      var sameDirectionIncreasing = (this.operator === ">=" || this.operator === ">") && (comp.operator === ">=" || comp.operator === ">");
      var sameDirectionDecreasing = (this.operator === "<=" || this.operator === "<") && (comp.operator === "<=" || comp.operator === "<");
      var sameSemVer = this.semver.version === comp.semver.version;
      var differentDirectionsInclusive = (this.operator === ">=" || this.operator === "<=") && (comp.operator === ">=" || comp.operator === "<=");
      var oppositeDirectionsLessThan = cmp(this.semver, "<", comp.semver, options) && ((this.operator === ">=" || this.operator === ">") && (comp.operator === "<=" || comp.operator === "<"));
      var oppositeDirectionsGreaterThan = cmp(this.semver, ">", comp.semver, options) && ((this.operator === "<=" || this.operator === "<") && (comp.operator === ">=" || comp.operator === ">"));
      return sameDirectionIncreasing || sameDirectionDecreasing || sameSemVer && differentDirectionsInclusive || oppositeDirectionsLessThan || oppositeDirectionsGreaterThan;
    };
    exports.Range = Range;
    function Range(range, options) {
      if (!options || typeof options !== "object") {
        options = {
          loose: !!options,
          includePrerelease: false
        };
      }
      if (range instanceof Range) {
        if (range.loose === !!options.loose && range.includePrerelease === !!options.includePrerelease) {
          return range;
        } else {
          return new Range(range.raw, options);
        }
      }
      if (range instanceof Comparator) {
        return new Range(range.value, options);
      }
      if (!(this instanceof Range)) {
        return new Range(range, options);
      }
      this.options = options;
      this.loose = !!options.loose;
      this.includePrerelease = !!options.includePrerelease;
      this.raw = range.trim().split(/\s+/).join(" ");
      this.set = this.raw.split("||").map(function(range2) {
        return this.parseRange(range2.trim());
      }, this).filter(function(c) {
        return c.length;
      });
      if (!this.set.length) {
        throw new TypeError("Invalid SemVer Range: " + this.raw);
      }
      this.format();
    }
    Range.prototype.format = function() {
      this.range = this.set.map(function(comps) {
        return comps.join(" ").trim();
      }).join("||").trim();
      return this.range;
    };
    Range.prototype.toString = function() {
      return this.range;
    };
    function isWhitespace(char) {
      var code = char && char.charCodeAt(0);
      return code >= 9 && code <= 13 || code === 32 || code === 160 || code === 5760 || code >= 8192 && code <= 8202 || code === 8232 || code === 8233 || code === 8239 || code === 8287 || code === 12288 || code === 65279;
    }
    function isVersionPrefix(char) {
      return char === "v" || char === "=" || isWhitespace(char);
    }
    function isDigit(char) {
      return char !== void 0 && char >= "0" && char <= "9";
    }
    function isLetter(char) {
      return char !== void 0 && (char >= "a" && char <= "z" || char >= "A" && char <= "Z");
    }
    function isIdentifierCharacter(char) {
      return isDigit(char) || isLetter(char) || char === "-";
    }
    function isVersionStart(char) {
      return isDigit(char) || char === "x" || char === "X" || char === "*";
    }
    function findDigitsEndIndex(range, start, limit, digitRuns) {
      if (!isDigit(range[start])) {
        return start;
      }
      if (start >= digitRuns.start && start < digitRuns.end) {
        return Math.min(start + limit, digitRuns.end);
      }
      if (start >= digitRuns.previousStart && start < digitRuns.previousEnd) {
        return Math.min(start + limit, digitRuns.previousEnd);
      }
      var end = start + 1;
      while (isDigit(range[end])) {
        end++;
      }
      digitRuns.previousStart = digitRuns.start;
      digitRuns.previousEnd = digitRuns.end;
      digitRuns.start = start;
      digitRuns.end = end;
      return Math.min(start + limit, end);
    }
    function findVersionNumberEndIndex(range, start, loose, digitRuns) {
      if (!loose && range[start] === "0") {
        return start + 1;
      }
      return findDigitsEndIndex(range, start, loose ? MAX_LENGTH : MAX_LENGTH + 1, digitRuns);
    }
    function findPrereleaseIdentifierEndIndex(range, start, loose, digitRuns) {
      if (isDigit(range[start])) {
        return findVersionNumberEndIndex(range, start, loose, digitRuns);
      }
      if (!isLetter(range[start]) && range[start] !== "-") {
        return start;
      }
      var end = start + 1;
      var limit = end + MAX_SAFE_BUILD_LENGTH;
      while (end < limit && isIdentifierCharacter(range[end])) {
        end++;
      }
      return end;
    }
    function findPrereleaseEndIndex(range, start, loose, digitRuns) {
      var hyphen = range[start] === "-";
      if (!loose && !hyphen) {
        return start;
      }
      var identifierStart = start + (hyphen ? 1 : 0);
      var end = findPrereleaseIdentifierEndIndex(range, identifierStart, loose, digitRuns);
      if (end === identifierStart) {
        if (!loose || !hyphen) {
          return start;
        }
        end = findPrereleaseIdentifierEndIndex(range, start, loose, digitRuns);
      }
      while (range[end] === ".") {
        var next = findPrereleaseIdentifierEndIndex(range, end + 1, loose, digitRuns);
        if (next === end + 1) {
          break;
        }
        end = next;
      }
      return end;
    }
    function findBuildEndIndex(range, start) {
      if (range[start] !== "+") {
        return start;
      }
      var end = start + 1;
      do {
        var identifierStart = end;
        while (end - identifierStart < MAX_SAFE_BUILD_LENGTH && isIdentifierCharacter(range[end])) {
          end++;
        }
        if (end === identifierStart) {
          return identifierStart === start + 1 ? start : end - 1;
        }
        if (range[end] !== ".") {
          return end;
        }
        end++;
      } while (true);
    }
    function findLooseFullVersionEndIndex(range, start, digitRuns) {
      var end = start;
      for (var component = 0; component < 3; component++) {
        var next = findVersionNumberEndIndex(range, end, true, digitRuns);
        if (next === end) {
          return start;
        }
        end = next;
        if (component < 2) {
          if (range[end] !== ".") {
            return start;
          }
          end++;
        }
      }
      return findBuildEndIndex(range, findPrereleaseEndIndex(range, end, true, digitRuns));
    }
    function findPartialVersionComponentEndIndex(range, start, digitRuns) {
      if (isDigit(range[start])) {
        return findVersionNumberEndIndex(range, start, false, digitRuns);
      }
      return isVersionStart(range[start]) ? start + 1 : start;
    }
    function findVersionEndIndex(range, start, digitRuns) {
      var end = findLooseFullVersionEndIndex(range, start, digitRuns);
      if (end !== start) {
        return end;
      }
      end = findPartialVersionComponentEndIndex(range, start, digitRuns);
      for (var component = 0; component < 2; component++) {
        if (range[end] !== ".") {
          return end;
        }
        var next = findPartialVersionComponentEndIndex(range, end + 1, digitRuns);
        if (next === end + 1) {
          return end;
        }
        end = next;
      }
      return findBuildEndIndex(range, findPrereleaseEndIndex(range, end, false, digitRuns));
    }
    function findRemovableWhitespaceIndex(range, position) {
      if (isWhitespace(range[position])) {
        position++;
      }
      if (range[position] === "<" || range[position] === ">") {
        position++;
      }
      if (range[position] === "=") {
        position++;
      }
      return isWhitespace(range[position]) ? position : -1;
    }
    function trimComparatorWhitespace(range) {
      var result = "";
      var copyFrom = 0;
      var cursor = 0;
      var digitRuns = { start: -1, end: -1, previousStart: -1, previousEnd: -1 };
      while (cursor < range.length) {
        var matchStart = cursor;
        if (range[cursor] === "<" || range[cursor] === ">") {
          cursor++;
        } else if (!isVersionPrefix(range[cursor]) && !isVersionStart(range[cursor])) {
          cursor++;
          continue;
        }
        while (cursor < range.length && isVersionPrefix(range[cursor])) {
          cursor++;
        }
        if (!isVersionStart(range[cursor])) {
          continue;
        }
        var whitespacePosition = findRemovableWhitespaceIndex(range, matchStart);
        if (whitespacePosition !== -1) {
          result += range.slice(copyFrom, whitespacePosition);
          copyFrom = whitespacePosition + 1;
        }
        cursor = findVersionEndIndex(range, cursor, digitRuns);
      }
      return result + range.slice(copyFrom);
    }
    Range.prototype.parseRange = function(range) {
      var loose = this.options.loose;
      var hr = loose ? safeRe[t.HYPHENRANGELOOSE] : safeRe[t.HYPHENRANGE];
      range = range.replace(hr, hyphenReplace);
      debug("hyphen replace", range);
      range = trimComparatorWhitespace(range);
      debug("comparator trim", range);
      range = range.replace(safeRe[t.TILDETRIM], tildeTrimReplace);
      range = range.replace(safeRe[t.CARETTRIM], caretTrimReplace);
      range = range.split(/\s+/).join(" ");
      var compRe = loose ? safeRe[t.COMPARATORLOOSE] : safeRe[t.COMPARATOR];
      var set = range.split(" ").map(function(comp) {
        return parseComparator(comp, this.options);
      }, this).join(" ").split(/\s+/);
      if (this.options.loose) {
        set = set.filter(function(comp) {
          return !!comp.match(compRe);
        });
      }
      set = set.map(function(comp) {
        return new Comparator(comp, this.options);
      }, this);
      return set;
    };
    Range.prototype.intersects = function(range, options) {
      if (!(range instanceof Range)) {
        throw new TypeError("a Range is required");
      }
      return this.set.some(function(thisComparators) {
        return isSatisfiable(thisComparators, options) && range.set.some(function(rangeComparators) {
          return isSatisfiable(rangeComparators, options) && thisComparators.every(function(thisComparator) {
            return rangeComparators.every(function(rangeComparator) {
              return thisComparator.intersects(rangeComparator, options);
            });
          });
        });
      });
    };
    function isSatisfiable(comparators, options) {
      var result = true;
      var remainingComparators = comparators.slice();
      var testComparator = remainingComparators.pop();
      while (result && remainingComparators.length) {
        result = remainingComparators.every(function(otherComparator) {
          return testComparator.intersects(otherComparator, options);
        });
        testComparator = remainingComparators.pop();
      }
      return result;
    }
    exports.toComparators = toComparators;
    function toComparators(range, options) {
      return new Range(range, options).set.map(function(comp) {
        return comp.map(function(c) {
          return c.value;
        }).join(" ").trim().split(" ");
      });
    }
    function parseComparator(comp, options) {
      debug("comp", comp, options);
      comp = replaceCarets(comp, options);
      debug("caret", comp);
      comp = replaceTildes(comp, options);
      debug("tildes", comp);
      comp = replaceXRanges(comp, options);
      debug("xrange", comp);
      comp = replaceStars(comp, options);
      debug("stars", comp);
      return comp;
    }
    function isX(id) {
      return !id || id.toLowerCase() === "x" || id === "*";
    }
    function replaceTildes(comp, options) {
      return comp.trim().split(/\s+/).map(function(comp2) {
        return replaceTilde(comp2, options);
      }).join(" ");
    }
    function replaceTilde(comp, options) {
      var r = options.loose ? safeRe[t.TILDELOOSE] : safeRe[t.TILDE];
      return comp.replace(r, function(_, M, m, p, pr) {
        debug("tilde", comp, _, M, m, p, pr);
        var ret;
        if (isX(M)) {
          ret = "";
        } else if (isX(m)) {
          ret = ">=" + M + ".0.0 <" + (+M + 1) + ".0.0";
        } else if (isX(p)) {
          ret = ">=" + M + "." + m + ".0 <" + M + "." + (+m + 1) + ".0";
        } else if (pr) {
          debug("replaceTilde pr", pr);
          ret = ">=" + M + "." + m + "." + p + "-" + pr + " <" + M + "." + (+m + 1) + ".0";
        } else {
          ret = ">=" + M + "." + m + "." + p + " <" + M + "." + (+m + 1) + ".0";
        }
        debug("tilde return", ret);
        return ret;
      });
    }
    function replaceCarets(comp, options) {
      return comp.trim().split(/\s+/).map(function(comp2) {
        return replaceCaret(comp2, options);
      }).join(" ");
    }
    function replaceCaret(comp, options) {
      debug("caret", comp, options);
      var r = options.loose ? safeRe[t.CARETLOOSE] : safeRe[t.CARET];
      return comp.replace(r, function(_, M, m, p, pr) {
        debug("caret", comp, _, M, m, p, pr);
        var ret;
        if (isX(M)) {
          ret = "";
        } else if (isX(m)) {
          ret = ">=" + M + ".0.0 <" + (+M + 1) + ".0.0";
        } else if (isX(p)) {
          if (M === "0") {
            ret = ">=" + M + "." + m + ".0 <" + M + "." + (+m + 1) + ".0";
          } else {
            ret = ">=" + M + "." + m + ".0 <" + (+M + 1) + ".0.0";
          }
        } else if (pr) {
          debug("replaceCaret pr", pr);
          if (M === "0") {
            if (m === "0") {
              ret = ">=" + M + "." + m + "." + p + "-" + pr + " <" + M + "." + m + "." + (+p + 1);
            } else {
              ret = ">=" + M + "." + m + "." + p + "-" + pr + " <" + M + "." + (+m + 1) + ".0";
            }
          } else {
            ret = ">=" + M + "." + m + "." + p + "-" + pr + " <" + (+M + 1) + ".0.0";
          }
        } else {
          debug("no pr");
          if (M === "0") {
            if (m === "0") {
              ret = ">=" + M + "." + m + "." + p + " <" + M + "." + m + "." + (+p + 1);
            } else {
              ret = ">=" + M + "." + m + "." + p + " <" + M + "." + (+m + 1) + ".0";
            }
          } else {
            ret = ">=" + M + "." + m + "." + p + " <" + (+M + 1) + ".0.0";
          }
        }
        debug("caret return", ret);
        return ret;
      });
    }
    function replaceXRanges(comp, options) {
      debug("replaceXRanges", comp, options);
      return comp.split(/\s+/).map(function(comp2) {
        return replaceXRange(comp2, options);
      }).join(" ");
    }
    function replaceXRange(comp, options) {
      comp = comp.trim();
      var r = options.loose ? safeRe[t.XRANGELOOSE] : safeRe[t.XRANGE];
      return comp.replace(r, function(ret, gtlt, M, m, p, pr) {
        debug("xRange", comp, ret, gtlt, M, m, p, pr);
        var xM = isX(M);
        var xm = xM || isX(m);
        var xp = xm || isX(p);
        var anyX = xp;
        if (gtlt === "=" && anyX) {
          gtlt = "";
        }
        pr = options.includePrerelease ? "-0" : "";
        if (xM) {
          if (gtlt === ">" || gtlt === "<") {
            ret = "<0.0.0-0";
          } else {
            ret = "*";
          }
        } else if (gtlt && anyX) {
          if (xm) {
            m = 0;
          }
          p = 0;
          if (gtlt === ">") {
            gtlt = ">=";
            if (xm) {
              M = +M + 1;
              m = 0;
              p = 0;
            } else {
              m = +m + 1;
              p = 0;
            }
          } else if (gtlt === "<=") {
            gtlt = "<";
            if (xm) {
              M = +M + 1;
            } else {
              m = +m + 1;
            }
          }
          ret = gtlt + M + "." + m + "." + p + pr;
        } else if (xm) {
          ret = ">=" + M + ".0.0" + pr + " <" + (+M + 1) + ".0.0" + pr;
        } else if (xp) {
          ret = ">=" + M + "." + m + ".0" + pr + " <" + M + "." + (+m + 1) + ".0" + pr;
        }
        debug("xRange return", ret);
        return ret;
      });
    }
    function replaceStars(comp, options) {
      debug("replaceStars", comp, options);
      return comp.trim().replace(safeRe[t.STAR], "");
    }
    function hyphenReplace($0, from, fM, fm, fp, fpr, fb, to, tM, tm, tp, tpr, tb) {
      if (isX(fM)) {
        from = "";
      } else if (isX(fm)) {
        from = ">=" + fM + ".0.0";
      } else if (isX(fp)) {
        from = ">=" + fM + "." + fm + ".0";
      } else {
        from = ">=" + from;
      }
      if (isX(tM)) {
        to = "";
      } else if (isX(tm)) {
        to = "<" + (+tM + 1) + ".0.0";
      } else if (isX(tp)) {
        to = "<" + tM + "." + (+tm + 1) + ".0";
      } else if (tpr) {
        to = "<=" + tM + "." + tm + "." + tp + "-" + tpr;
      } else {
        to = "<=" + to;
      }
      return (from + " " + to).trim();
    }
    Range.prototype.test = function(version) {
      if (!version) {
        return false;
      }
      if (typeof version === "string") {
        try {
          version = new SemVer(version, this.options);
        } catch (er) {
          return false;
        }
      }
      for (var i2 = 0; i2 < this.set.length; i2++) {
        if (testSet(this.set[i2], version, this.options)) {
          return true;
        }
      }
      return false;
    };
    function testSet(set, version, options) {
      for (var i2 = 0; i2 < set.length; i2++) {
        if (!set[i2].test(version)) {
          return false;
        }
      }
      if (version.prerelease.length && !options.includePrerelease) {
        for (i2 = 0; i2 < set.length; i2++) {
          debug(set[i2].semver);
          if (set[i2].semver === ANY) {
            continue;
          }
          if (set[i2].semver.prerelease.length > 0) {
            var allowed = set[i2].semver;
            if (allowed.major === version.major && allowed.minor === version.minor && allowed.patch === version.patch) {
              return true;
            }
          }
        }
        return false;
      }
      return true;
    }
    exports.satisfies = satisfies;
    function satisfies(version, range, options) {
      try {
        range = new Range(range, options);
      } catch (er) {
        return false;
      }
      return range.test(version);
    }
    exports.maxSatisfying = maxSatisfying;
    function maxSatisfying(versions, range, options) {
      var max = null;
      var maxSV = null;
      try {
        var rangeObj = new Range(range, options);
      } catch (er) {
        return null;
      }
      versions.forEach(function(v) {
        if (rangeObj.test(v)) {
          if (!max || maxSV.compare(v) === -1) {
            max = v;
            maxSV = new SemVer(max, options);
          }
        }
      });
      return max;
    }
    exports.minSatisfying = minSatisfying;
    function minSatisfying(versions, range, options) {
      var min = null;
      var minSV = null;
      try {
        var rangeObj = new Range(range, options);
      } catch (er) {
        return null;
      }
      versions.forEach(function(v) {
        if (rangeObj.test(v)) {
          if (!min || minSV.compare(v) === 1) {
            min = v;
            minSV = new SemVer(min, options);
          }
        }
      });
      return min;
    }
    exports.minVersion = minVersion;
    function minVersion(range, loose) {
      range = new Range(range, loose);
      var minver = new SemVer("0.0.0");
      if (range.test(minver)) {
        return minver;
      }
      minver = new SemVer("0.0.0-0");
      if (range.test(minver)) {
        return minver;
      }
      minver = null;
      for (var i2 = 0; i2 < range.set.length; ++i2) {
        var comparators = range.set[i2];
        comparators.forEach(function(comparator) {
          var compver = new SemVer(comparator.semver.version);
          switch (comparator.operator) {
            case ">":
              if (compver.prerelease.length === 0) {
                compver.patch++;
              } else {
                compver.prerelease.push(0);
              }
              compver.raw = compver.format();
            /* fallthrough */
            case "":
            case ">=":
              if (!minver || gt(minver, compver)) {
                minver = compver;
              }
              break;
            case "<":
            case "<=":
              break;
            /* istanbul ignore next */
            default:
              throw new Error("Unexpected operation: " + comparator.operator);
          }
        });
      }
      if (minver && range.test(minver)) {
        return minver;
      }
      return null;
    }
    exports.validRange = validRange;
    function validRange(range, options) {
      try {
        return new Range(range, options).range || "*";
      } catch (er) {
        return null;
      }
    }
    exports.ltr = ltr;
    function ltr(version, range, options) {
      return outside(version, range, "<", options);
    }
    exports.gtr = gtr;
    function gtr(version, range, options) {
      return outside(version, range, ">", options);
    }
    exports.outside = outside;
    function outside(version, range, hilo, options) {
      version = new SemVer(version, options);
      range = new Range(range, options);
      var gtfn, ltefn, ltfn, comp, ecomp;
      switch (hilo) {
        case ">":
          gtfn = gt;
          ltefn = lte;
          ltfn = lt;
          comp = ">";
          ecomp = ">=";
          break;
        case "<":
          gtfn = lt;
          ltefn = gte;
          ltfn = gt;
          comp = "<";
          ecomp = "<=";
          break;
        default:
          throw new TypeError('Must provide a hilo val of "<" or ">"');
      }
      if (satisfies(version, range, options)) {
        return false;
      }
      for (var i2 = 0; i2 < range.set.length; ++i2) {
        var comparators = range.set[i2];
        var high = null;
        var low = null;
        comparators.forEach(function(comparator) {
          if (comparator.semver === ANY) {
            comparator = new Comparator(">=0.0.0");
          }
          high = high || comparator;
          low = low || comparator;
          if (gtfn(comparator.semver, high.semver, options)) {
            high = comparator;
          } else if (ltfn(comparator.semver, low.semver, options)) {
            low = comparator;
          }
        });
        if (high.operator === comp || high.operator === ecomp) {
          return false;
        }
        if ((!low.operator || low.operator === comp) && ltefn(version, low.semver)) {
          return false;
        } else if (low.operator === ecomp && ltfn(version, low.semver)) {
          return false;
        }
      }
      return true;
    }
    exports.prerelease = prerelease;
    function prerelease(version, options) {
      var parsed = parse(version, options);
      return parsed && parsed.prerelease.length ? parsed.prerelease : null;
    }
    exports.intersects = intersects;
    function intersects(r1, r2, options) {
      r1 = new Range(r1, options);
      r2 = new Range(r2, options);
      return r1.intersects(r2);
    }
    exports.coerce = coerce;
    function coerce(version, options) {
      if (version instanceof SemVer) {
        return version;
      }
      if (typeof version === "number") {
        version = String(version);
      }
      if (typeof version !== "string") {
        return null;
      }
      options = options || {};
      var match = null;
      if (!options.rtl) {
        match = version.match(safeRe[t.COERCE]);
      } else {
        var next;
        while ((next = safeRe[t.COERCERTL].exec(version)) && (!match || match.index + match[0].length !== version.length)) {
          if (!match || next.index + next[0].length !== match.index + match[0].length) {
            match = next;
          }
          safeRe[t.COERCERTL].lastIndex = next.index + next[1].length + next[2].length;
        }
        safeRe[t.COERCERTL].lastIndex = -1;
      }
      if (match === null) {
        return null;
      }
      return parse(match[2] + "." + (match[3] || "0") + "." + (match[4] || "0"), options);
    }
  }
});

// node_modules/make-dir/index.js
var require_make_dir = __commonJS({
  "node_modules/make-dir/index.js"(exports, module) {
    "use strict";
    var fs3 = __require("fs");
    var path = __require("path");
    var { promisify } = __require("util");
    var semver = require_semver();
    var useNativeRecursiveOption = semver.satisfies(process.version, ">=10.12.0");
    var checkPath = (pth) => {
      if (process.platform === "win32") {
        const pathHasInvalidWinCharacters = /[<>:"|?*]/.test(pth.replace(path.parse(pth).root, ""));
        if (pathHasInvalidWinCharacters) {
          const error = new Error(`Path contains invalid characters: ${pth}`);
          error.code = "EINVAL";
          throw error;
        }
      }
    };
    var processOptions = (options) => {
      const defaults = {
        mode: 511,
        fs: fs3
      };
      return {
        ...defaults,
        ...options
      };
    };
    var permissionError = (pth) => {
      const error = new Error(`operation not permitted, mkdir '${pth}'`);
      error.code = "EPERM";
      error.errno = -4048;
      error.path = pth;
      error.syscall = "mkdir";
      return error;
    };
    var makeDir2 = async (input, options) => {
      checkPath(input);
      options = processOptions(options);
      const mkdir = promisify(options.fs.mkdir);
      const stat = promisify(options.fs.stat);
      if (useNativeRecursiveOption && options.fs.mkdir === fs3.mkdir) {
        const pth = path.resolve(input);
        await mkdir(pth, {
          mode: options.mode,
          recursive: true
        });
        return pth;
      }
      const make = async (pth) => {
        try {
          await mkdir(pth, options.mode);
          return pth;
        } catch (error) {
          if (error.code === "EPERM") {
            throw error;
          }
          if (error.code === "ENOENT") {
            if (path.dirname(pth) === pth) {
              throw permissionError(pth);
            }
            if (error.message.includes("null bytes")) {
              throw error;
            }
            await make(path.dirname(pth));
            return make(pth);
          }
          try {
            const stats = await stat(pth);
            if (!stats.isDirectory()) {
              throw new Error("The path is not a directory");
            }
          } catch (_) {
            throw error;
          }
          return pth;
        }
      };
      return make(path.resolve(input));
    };
    module.exports = makeDir2;
    module.exports.sync = (input, options) => {
      checkPath(input);
      options = processOptions(options);
      if (useNativeRecursiveOption && options.fs.mkdirSync === fs3.mkdirSync) {
        const pth = path.resolve(input);
        fs3.mkdirSync(pth, {
          mode: options.mode,
          recursive: true
        });
        return pth;
      }
      const make = (pth) => {
        try {
          options.fs.mkdirSync(pth, options.mode);
        } catch (error) {
          if (error.code === "EPERM") {
            throw error;
          }
          if (error.code === "ENOENT") {
            if (path.dirname(pth) === pth) {
              throw permissionError(pth);
            }
            if (error.message.includes("null bytes")) {
              throw error;
            }
            make(path.dirname(pth));
            return make(pth);
          }
          try {
            if (!options.fs.statSync(pth).isDirectory()) {
              throw new Error("The path is not a directory");
            }
          } catch (_) {
            throw error;
          }
        }
        return pth;
      };
      return make(path.resolve(input));
    };
  }
});

// node_modules/shell-escape/shell-escape.js
var require_shell_escape = __commonJS({
  "node_modules/shell-escape/shell-escape.js"(exports, module) {
    module.exports = shellescape;
    function shellescape(a) {
      var ret = [];
      a.forEach(function(s) {
        if (!/^[A-Za-z0-9_\/-]+$/.test(s)) {
          s = "'" + s.replace(/'/g, "'\\''") + "'";
          s = s.replace(/^(?:'')+/g, "").replace(/\\'''/g, "\\'");
        }
        ret.push(s);
      });
      return ret.join(" ");
    }
  }
});

// src/remote/ssh-connection.ts
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";

// node_modules/node-ssh/lib/esm/index.mjs
var import_is_stream = __toESM(require_is_stream(), 1);
var import_make_dir = __toESM(require_make_dir(), 1);
import invariant2, { AssertionError } from "assert";
import fs2 from "fs";
import fsPath2 from "path";

// node_modules/sb-promise-queue/lib/esm/index.mjs
var PromiseQueue = class {
  constructor({ concurrency = 1 } = {}) {
    this.options = { concurrency };
    this.running = 0;
    this.queue = [];
    this.idleCallbacks = [];
  }
  clear() {
    this.queue = [];
  }
  onIdle(callback) {
    this.idleCallbacks.push(callback);
    return () => {
      const index = this.idleCallbacks.indexOf(callback);
      if (index !== -1) {
        this.idleCallbacks.splice(index, 1);
      }
    };
  }
  waitTillIdle() {
    return new Promise((resolve) => {
      if (this.running === 0) {
        resolve();
        return;
      }
      const dispose = this.onIdle(() => {
        dispose();
        resolve();
      });
    });
  }
  add(callback) {
    return new Promise((resolve, reject) => {
      const runCallback = () => {
        this.running += 1;
        try {
          Promise.resolve(callback()).then((val) => {
            resolve(val);
            this.processNext();
          }, (err) => {
            reject(err);
            this.processNext();
          });
        } catch (err) {
          reject(err);
          this.processNext();
        }
      };
      if (this.running >= this.options.concurrency) {
        this.queue.push(runCallback);
      } else {
        runCallback();
      }
    });
  }
  // Internal function, don't use
  processNext() {
    this.running -= 1;
    const callback = this.queue.shift();
    if (callback) {
      callback();
    } else if (this.running === 0) {
      this.idleCallbacks.forEach((item) => item());
    }
  }
};

// node_modules/sb-scandir/lib/esm/index.mjs
import fs from "fs";
import fsPath from "path";
import invariant from "assert";
var defaultFilesystem = {
  join(pathA, pathB) {
    return fsPath.join(pathA, pathB);
  },
  basename(path) {
    return fsPath.basename(path);
  },
  stat(path) {
    return new Promise((resolve, reject) => {
      fs.stat(path, (err, res) => {
        if (err) {
          reject(err);
        } else {
          resolve(res);
        }
      });
    });
  },
  readdir(path) {
    return new Promise((resolve, reject) => {
      fs.readdir(path, (err, res) => {
        if (err) {
          reject(err);
        } else {
          resolve(res);
        }
      });
    });
  }
};
async function scanDirectoryInternal({ path, recursive, validate, result, fileSystem, queue, reject }) {
  const itemStat = await fileSystem.stat(path);
  if (itemStat.isFile()) {
    result.files.push(path);
  } else if (itemStat.isDirectory()) {
    result.directories.push(path);
  }
  if (!itemStat.isDirectory() || recursive === "none") {
    return;
  }
  const contents = await fileSystem.readdir(path);
  contents.forEach((item) => {
    const itemPath = fileSystem.join(path, item);
    if (!validate(itemPath)) {
      return;
    }
    queue.add(() => scanDirectoryInternal({
      path: itemPath,
      recursive: recursive === "shallow" ? "none" : "deep",
      validate,
      result,
      fileSystem,
      queue,
      reject
    })).catch(reject);
  });
}
async function scanDirectory(path, { recursive = true, validate = null, concurrency = Infinity, fileSystem = defaultFilesystem } = {}) {
  invariant(path && typeof path === "string", "path must be a valid string");
  invariant(typeof recursive === "boolean", "options.recursive must be a valid boolean");
  invariant(validate === null || typeof validate === "function", "options.validate must be a valid function");
  invariant(typeof concurrency === "number", "options.concurrency must be a valid number");
  invariant(fileSystem !== null && typeof fileSystem === "object", "options.fileSystem must be a valid object");
  const queue = new PromiseQueue({
    concurrency
  });
  const result = { files: [], directories: [] };
  const mergedFileSystem = { ...defaultFilesystem, ...fileSystem };
  await new Promise((resolve, reject) => {
    scanDirectoryInternal({
      path,
      recursive: recursive ? "deep" : "shallow",
      validate: validate != null ? validate : (item) => mergedFileSystem.basename(item).slice(0, 1) !== ".",
      result,
      fileSystem: mergedFileSystem,
      queue,
      reject
    }).then(() => queue.waitTillIdle()).then(resolve, reject);
  });
  return result;
}
var esm_default = scanDirectory;

// node_modules/node-ssh/lib/esm/index.mjs
var import_shell_escape = __toESM(require_shell_escape(), 1);
var import_ssh2 = __toESM(require_lib(), 1);
var DEFAULT_CONCURRENCY = 1;
var DEFAULT_VALIDATE = (path) => !fsPath2.basename(path).startsWith(".");
var DEFAULT_TICK = () => {
};
var SSHError = class extends Error {
  constructor(message, code = null) {
    super(message);
    this.code = code;
  }
};
function unixifyPath(path) {
  if (path.includes("\\")) {
    return path.split("\\").join("/");
  }
  return path;
}
async function readFile(filePath) {
  return new Promise((resolve, reject) => {
    fs2.readFile(filePath, "utf8", (err, res) => {
      if (err) {
        reject(err);
      } else {
        resolve(res);
      }
    });
  });
}
var SFTP_MKDIR_ERR_CODE_REGEXP = /Error: (E[\S]+): /;
async function makeDirectoryWithSftp(path, sftp) {
  let stats = null;
  try {
    stats = await new Promise((resolve, reject) => {
      sftp.stat(path, (err, res) => {
        if (err) {
          reject(err);
        } else {
          resolve(res);
        }
      });
    });
  } catch (_) {
  }
  if (stats) {
    if (stats.isDirectory()) {
      return;
    }
    throw new Error("mkdir() failed, target already exists and is not a directory");
  }
  try {
    await new Promise((resolve, reject) => {
      sftp.mkdir(path, (err) => {
        if (err) {
          reject(err);
        } else {
          resolve();
        }
      });
    });
  } catch (err) {
    if (err != null && typeof err.stack === "string") {
      const matches = SFTP_MKDIR_ERR_CODE_REGEXP.exec(err.stack);
      if (matches != null) {
        throw new SSHError(err.message, matches[1]);
      }
      throw err;
    }
  }
}
var NodeSSH = class {
  constructor() {
    this.connection = null;
  }
  getConnection() {
    const { connection } = this;
    if (connection == null) {
      throw new Error("Not connected to server");
    }
    return connection;
  }
  async connect(givenConfig) {
    invariant2(givenConfig != null && typeof givenConfig === "object", "config must be a valid object");
    const config = { ...givenConfig };
    invariant2(config.username != null && typeof config.username === "string", "config.username must be a valid string");
    if (config.host != null) {
      invariant2(typeof config.host === "string", "config.host must be a valid string");
    } else if (config.sock != null) {
      invariant2(typeof config.sock === "object", "config.sock must be a valid object");
    } else {
      throw new AssertionError({ message: "Either config.host or config.sock must be provided" });
    }
    if (config.privateKey != null || config.privateKeyPath != null) {
      if (config.privateKey != null) {
        invariant2(typeof config.privateKey === "string", "config.privateKey must be a valid string");
        invariant2(config.privateKeyPath == null, "config.privateKeyPath must not be specified when config.privateKey is specified");
      } else if (config.privateKeyPath != null) {
        invariant2(typeof config.privateKeyPath === "string", "config.privateKeyPath must be a valid string");
        invariant2(config.privateKey == null, "config.privateKey must not be specified when config.privateKeyPath is specified");
      }
      invariant2(config.passphrase == null || typeof config.passphrase === "string", "config.passphrase must be null or a valid string");
      if (config.privateKeyPath != null) {
        try {
          config.privateKey = await readFile(config.privateKeyPath);
        } catch (err) {
          if (err != null && err.code === "ENOENT") {
            throw new AssertionError({ message: "config.privateKeyPath does not exist at given fs path" });
          }
          throw err;
        }
      }
    } else if (config.password != null) {
      invariant2(typeof config.password === "string", "config.password must be a valid string");
    }
    if (config.tryKeyboard != null) {
      invariant2(typeof config.tryKeyboard === "boolean", "config.tryKeyboard must be a valid boolean");
    }
    if (config.tryKeyboard) {
      const { password } = config;
      if (config.onKeyboardInteractive != null) {
        invariant2(typeof config.onKeyboardInteractive === "function", "config.onKeyboardInteractive must be a valid function");
      } else if (password != null) {
        config.onKeyboardInteractive = (name, instructions, instructionsLang, prompts, finish) => {
          if (prompts.length > 0 && prompts[0].prompt.toLowerCase().includes("password")) {
            finish([password]);
          }
        };
      }
    }
    const connection = new import_ssh2.default.Client();
    this.connection = connection;
    await new Promise((resolve, reject) => {
      connection.on("error", reject);
      if (config.onKeyboardInteractive) {
        connection.on("keyboard-interactive", config.onKeyboardInteractive);
      }
      connection.on("ready", () => {
        connection.removeListener("error", reject);
        resolve();
      });
      connection.on("end", () => {
        if (this.connection === connection) {
          this.connection = null;
        }
      });
      connection.on("close", () => {
        if (this.connection === connection) {
          this.connection = null;
        }
        reject(new SSHError("No response from server", "ETIMEDOUT"));
      });
      connection.connect(config);
    });
    return this;
  }
  isConnected() {
    return this.connection != null;
  }
  async requestShell(options) {
    const connection = this.getConnection();
    return new Promise((resolve, reject) => {
      connection.on("error", reject);
      const callback = (err, res) => {
        connection.removeListener("error", reject);
        if (err) {
          reject(err);
        } else {
          resolve(res);
        }
      };
      if (options == null) {
        connection.shell(callback);
      } else {
        connection.shell(options, callback);
      }
    });
  }
  async withShell(callback, options) {
    invariant2(typeof callback === "function", "callback must be a valid function");
    const shell = await this.requestShell(options);
    try {
      await callback(shell);
    } finally {
      shell.destroy();
    }
  }
  async requestSFTP() {
    const connection = this.getConnection();
    return new Promise((resolve, reject) => {
      connection.on("error", reject);
      connection.sftp((err, res) => {
        connection.removeListener("error", reject);
        if (err) {
          reject(err);
        } else {
          resolve(res);
        }
      });
    });
  }
  async withSFTP(callback) {
    invariant2(typeof callback === "function", "callback must be a valid function");
    const sftp = await this.requestSFTP();
    try {
      await callback(sftp);
    } finally {
      sftp.end();
    }
  }
  async execCommand(givenCommand, options = {}) {
    invariant2(typeof givenCommand === "string", "command must be a valid string");
    invariant2(options != null && typeof options === "object", "options must be a valid object");
    invariant2(options.cwd == null || typeof options.cwd === "string", "options.cwd must be a valid string");
    invariant2(options.stdin == null || typeof options.stdin === "string" || import_is_stream.default.readable(options.stdin), "options.stdin must be a valid string or readable stream");
    invariant2(options.execOptions == null || typeof options.execOptions === "object", "options.execOptions must be a valid object");
    invariant2(options.encoding == null || typeof options.encoding === "string", "options.encoding must be a valid string");
    invariant2(options.onChannel == null || typeof options.onChannel === "function", "options.onChannel must be a valid function");
    invariant2(options.onStdout == null || typeof options.onStdout === "function", "options.onStdout must be a valid function");
    invariant2(options.onStderr == null || typeof options.onStderr === "function", "options.onStderr must be a valid function");
    invariant2(options.noTrim == null || typeof options.noTrim === "boolean", "options.noTrim must be a boolean");
    let command = givenCommand;
    if (options.cwd) {
      command = `cd ${(0, import_shell_escape.default)([options.cwd])} ; ${command}`;
    }
    const connection = this.getConnection();
    const output = { stdout: [], stderr: [] };
    return new Promise((resolve, reject) => {
      connection.on("error", reject);
      connection.exec(command, options.execOptions != null ? options.execOptions : {}, (err, channel) => {
        connection.removeListener("error", reject);
        if (err) {
          reject(err);
          return;
        }
        if (options.onChannel) {
          options.onChannel(channel);
        }
        channel.on("data", (chunk) => {
          if (options.onStdout)
            options.onStdout(chunk);
          output.stdout.push(chunk.toString(options.encoding));
        });
        channel.stderr.on("data", (chunk) => {
          if (options.onStderr)
            options.onStderr(chunk);
          output.stderr.push(chunk.toString(options.encoding));
        });
        if (options.stdin != null) {
          if (import_is_stream.default.readable(options.stdin)) {
            options.stdin.pipe(channel, {
              end: true
            });
          } else {
            channel.write(options.stdin);
            channel.end();
          }
        } else {
          channel.end();
        }
        let code = null;
        let signal = null;
        channel.on("exit", (code_, signal_) => {
          code = code_ !== null && code_ !== void 0 ? code_ : null;
          signal = signal_ !== null && signal_ !== void 0 ? signal_ : null;
        });
        channel.on("close", () => {
          let stdout = output.stdout.join("");
          let stderr = output.stderr.join("");
          if (options.noTrim !== true) {
            stdout = stdout.trim();
            stderr = stderr.trim();
          }
          resolve({
            code: code != null ? code : null,
            signal: signal != null ? signal : null,
            stdout,
            stderr
          });
        });
      });
    });
  }
  async exec(command, parameters, options = {}) {
    invariant2(typeof command === "string", "command must be a valid string");
    invariant2(Array.isArray(parameters), "parameters must be a valid array");
    invariant2(options != null && typeof options === "object", "options must be a valid object");
    invariant2(options.stream == null || ["both", "stdout", "stderr"].includes(options.stream), "options.stream must be one of both, stdout, stderr");
    for (let i = 0, { length } = parameters; i < length; i += 1) {
      invariant2(typeof parameters[i] === "string", `parameters[${i}] must be a valid string`);
    }
    const completeCommand = `${command}${parameters.length > 0 ? ` ${(0, import_shell_escape.default)(parameters)}` : ""}`;
    const response = await this.execCommand(completeCommand, options);
    if (options.stream == null || options.stream === "stdout") {
      if (response.stderr) {
        throw new Error(response.stderr);
      }
      return response.stdout;
    }
    if (options.stream === "stderr") {
      return response.stderr;
    }
    return response;
  }
  async mkdir(path, method = "sftp", givenSftp = null) {
    invariant2(typeof path === "string", "path must be a valid string");
    invariant2(typeof method === "string" && (method === "sftp" || method === "exec"), "method must be either sftp or exec");
    invariant2(givenSftp == null || typeof givenSftp === "object", "sftp must be a valid object");
    if (method === "exec") {
      await this.exec("mkdir", ["-p", unixifyPath(path)]);
      return;
    }
    const sftp = givenSftp || await this.requestSFTP();
    const makeSftpDirectory = async (retry) => makeDirectoryWithSftp(unixifyPath(path), sftp).catch(async (error) => {
      if (!retry || error == null || error.message !== "No such file" && error.code !== "ENOENT") {
        throw error;
      }
      await this.mkdir(fsPath2.dirname(path), "sftp", sftp);
      await makeSftpDirectory(false);
    });
    try {
      await makeSftpDirectory(true);
    } finally {
      if (!givenSftp) {
        sftp.end();
      }
    }
  }
  async getFile(localFile, remoteFile, givenSftp = null, transferOptions = null) {
    invariant2(typeof localFile === "string", "localFile must be a valid string");
    invariant2(typeof remoteFile === "string", "remoteFile must be a valid string");
    invariant2(givenSftp == null || typeof givenSftp === "object", "sftp must be a valid object");
    invariant2(transferOptions == null || typeof transferOptions === "object", "transferOptions must be a valid object");
    const sftp = givenSftp || await this.requestSFTP();
    try {
      await new Promise((resolve, reject) => {
        sftp.fastGet(unixifyPath(remoteFile), localFile, transferOptions || {}, (err) => {
          if (err) {
            reject(err);
          } else {
            resolve();
          }
        });
      });
    } finally {
      if (!givenSftp) {
        sftp.end();
      }
    }
  }
  async putFile(localFile, remoteFile, givenSftp = null, transferOptions = null) {
    invariant2(typeof localFile === "string", "localFile must be a valid string");
    invariant2(typeof remoteFile === "string", "remoteFile must be a valid string");
    invariant2(givenSftp == null || typeof givenSftp === "object", "sftp must be a valid object");
    invariant2(transferOptions == null || typeof transferOptions === "object", "transferOptions must be a valid object");
    invariant2(await new Promise((resolve) => {
      fs2.access(localFile, fs2.constants.R_OK, (err) => {
        resolve(err === null);
      });
    }), `localFile does not exist at ${localFile}`);
    const sftp = givenSftp || await this.requestSFTP();
    const putFile = (retry) => {
      return new Promise((resolve, reject) => {
        sftp.fastPut(localFile, unixifyPath(remoteFile), transferOptions || {}, (err) => {
          if (err == null) {
            resolve();
            return;
          }
          if (err.message === "No such file" && retry) {
            resolve(this.mkdir(fsPath2.dirname(remoteFile), "sftp", sftp).then(() => putFile(false)));
          } else {
            reject(err);
          }
        });
      });
    };
    try {
      await putFile(true);
    } finally {
      if (!givenSftp) {
        sftp.end();
      }
    }
  }
  async putFiles(files, { concurrency = DEFAULT_CONCURRENCY, sftp: givenSftp = null, transferOptions = {} } = {}) {
    invariant2(Array.isArray(files), "files must be an array");
    for (let i = 0, { length } = files; i < length; i += 1) {
      const file = files[i];
      invariant2(file, "files items must be valid objects");
      invariant2(file.local && typeof file.local === "string", `files[${i}].local must be a string`);
      invariant2(file.remote && typeof file.remote === "string", `files[${i}].remote must be a string`);
    }
    const transferred = [];
    const sftp = givenSftp || await this.requestSFTP();
    const queue = new PromiseQueue({ concurrency });
    try {
      await new Promise((resolve, reject) => {
        files.forEach((file) => {
          queue.add(async () => {
            await this.putFile(file.local, file.remote, sftp, transferOptions);
            transferred.push(file);
          }).catch(reject);
        });
        queue.waitTillIdle().then(resolve);
      });
    } catch (error) {
      if (error != null) {
        error.transferred = transferred;
      }
      throw error;
    } finally {
      if (!givenSftp) {
        sftp.end();
      }
    }
  }
  async putDirectory(localDirectory, remoteDirectory, { concurrency = DEFAULT_CONCURRENCY, sftp: givenSftp = null, transferOptions = {}, recursive = true, tick = DEFAULT_TICK, validate = DEFAULT_VALIDATE } = {}) {
    invariant2(typeof localDirectory === "string" && localDirectory, "localDirectory must be a string");
    invariant2(typeof remoteDirectory === "string" && remoteDirectory, "remoteDirectory must be a string");
    const localDirectoryStat = await new Promise((resolve) => {
      fs2.stat(localDirectory, (err, stat) => {
        resolve(stat || null);
      });
    });
    invariant2(localDirectoryStat != null, `localDirectory does not exist at ${localDirectory}`);
    invariant2(localDirectoryStat.isDirectory(), `localDirectory is not a directory at ${localDirectory}`);
    const sftp = givenSftp || await this.requestSFTP();
    const scanned = await esm_default(localDirectory, {
      recursive,
      validate
    });
    const files = scanned.files.map((item) => fsPath2.relative(localDirectory, item));
    const directories = scanned.directories.map((item) => fsPath2.relative(localDirectory, item));
    directories.sort((a, b) => a.length - b.length);
    let failed = false;
    try {
      await new Promise((resolve, reject) => {
        const queue = new PromiseQueue({ concurrency });
        directories.forEach((directory) => {
          queue.add(async () => {
            await this.mkdir(fsPath2.join(remoteDirectory, directory), "sftp", sftp);
          }).catch(reject);
        });
        resolve(queue.waitTillIdle());
      });
      await new Promise((resolve, reject) => {
        const queue = new PromiseQueue({ concurrency });
        files.forEach((file) => {
          queue.add(async () => {
            const localFile = fsPath2.join(localDirectory, file);
            const remoteFile = fsPath2.join(remoteDirectory, file);
            try {
              await this.putFile(localFile, remoteFile, sftp, transferOptions);
              tick(localFile, remoteFile, null);
            } catch (_) {
              failed = true;
              tick(localFile, remoteFile, _);
            }
          }).catch(reject);
        });
        resolve(queue.waitTillIdle());
      });
    } finally {
      if (!givenSftp) {
        sftp.end();
      }
    }
    return !failed;
  }
  async getDirectory(localDirectory, remoteDirectory, { concurrency = DEFAULT_CONCURRENCY, sftp: givenSftp = null, transferOptions = {}, recursive = true, tick = DEFAULT_TICK, validate = DEFAULT_VALIDATE } = {}) {
    invariant2(typeof localDirectory === "string" && localDirectory, "localDirectory must be a string");
    invariant2(typeof remoteDirectory === "string" && remoteDirectory, "remoteDirectory must be a string");
    const localDirectoryStat = await new Promise((resolve) => {
      fs2.stat(localDirectory, (err, stat) => {
        resolve(stat || null);
      });
    });
    invariant2(localDirectoryStat != null, `localDirectory does not exist at ${localDirectory}`);
    invariant2(localDirectoryStat.isDirectory(), `localDirectory is not a directory at ${localDirectory}`);
    const sftp = givenSftp || await this.requestSFTP();
    const scanned = await esm_default(remoteDirectory, {
      recursive,
      validate,
      concurrency,
      fileSystem: {
        basename(path) {
          return fsPath2.posix.basename(path);
        },
        join(pathA, pathB) {
          return fsPath2.posix.join(pathA, pathB);
        },
        readdir(path) {
          return new Promise((resolve, reject) => {
            sftp.readdir(path, (err, res) => {
              if (err) {
                reject(err);
              } else {
                resolve(res.map((item) => item.filename));
              }
            });
          });
        },
        stat(path) {
          return new Promise((resolve, reject) => {
            sftp.stat(path, (err, res) => {
              if (err) {
                reject(err);
              } else {
                resolve(res);
              }
            });
          });
        }
      }
    });
    const files = scanned.files.map((item) => fsPath2.relative(remoteDirectory, item));
    const directories = scanned.directories.map((item) => fsPath2.relative(remoteDirectory, item));
    directories.sort((a, b) => a.length - b.length);
    let failed = false;
    try {
      await new Promise((resolve, reject) => {
        const queue = new PromiseQueue({ concurrency });
        directories.forEach((directory) => {
          queue.add(async () => {
            await (0, import_make_dir.default)(fsPath2.join(localDirectory, directory));
          }).catch(reject);
        });
        resolve(queue.waitTillIdle());
      });
      await new Promise((resolve, reject) => {
        const queue = new PromiseQueue({ concurrency });
        files.forEach((file) => {
          queue.add(async () => {
            const localFile = fsPath2.join(localDirectory, file);
            const remoteFile = fsPath2.join(remoteDirectory, file);
            try {
              await this.getFile(localFile, remoteFile, sftp, transferOptions);
              tick(localFile, remoteFile, null);
            } catch (_) {
              failed = true;
              tick(localFile, remoteFile, _);
            }
          }).catch(reject);
        });
        resolve(queue.waitTillIdle());
      });
    } finally {
      if (!givenSftp) {
        sftp.end();
      }
    }
    return !failed;
  }
  forwardIn(remoteAddr, remotePort, onConnection) {
    const connection = this.getConnection();
    return new Promise((resolve, reject) => {
      connection.forwardIn(remoteAddr, remotePort, (error, port) => {
        if (error) {
          reject(error);
          return;
        }
        const handler = (details, acceptConnection, rejectConnection) => {
          if (details.destIP === remoteAddr && details.destPort === port) {
            onConnection === null || onConnection === void 0 ? void 0 : onConnection(details, acceptConnection, rejectConnection);
          }
        };
        if (onConnection) {
          connection.on("tcp connection", handler);
        }
        const dispose = () => {
          return new Promise((_resolve, _reject) => {
            connection.off("tcp connection", handler);
            connection.unforwardIn(remoteAddr, port, (_error) => {
              if (_error) {
                _reject(error);
              }
              _resolve();
            });
          });
        };
        resolve({ port, dispose });
      });
    });
  }
  forwardOut(srcIP, srcPort, dstIP, dstPort) {
    const connection = this.getConnection();
    return new Promise((resolve, reject) => {
      connection.forwardOut(srcIP, srcPort, dstIP, dstPort, (error, channel) => {
        if (error) {
          reject(error);
          return;
        }
        resolve(channel);
      });
    });
  }
  forwardInStreamLocal(socketPath, onConnection) {
    const connection = this.getConnection();
    return new Promise((resolve, reject) => {
      connection.openssh_forwardInStreamLocal(socketPath, (error) => {
        if (error) {
          reject(error);
          return;
        }
        const handler = (details, acceptConnection, rejectConnection) => {
          if (details.socketPath === socketPath) {
            onConnection === null || onConnection === void 0 ? void 0 : onConnection(details, acceptConnection, rejectConnection);
          }
        };
        if (onConnection) {
          connection.on("unix connection", handler);
        }
        const dispose = () => {
          return new Promise((_resolve, _reject) => {
            connection.off("unix connection", handler);
            connection.openssh_unforwardInStreamLocal(socketPath, (_error) => {
              if (_error) {
                _reject(_error);
              }
              _resolve();
            });
          });
        };
        resolve({ dispose });
      });
    });
  }
  forwardOutStreamLocal(socketPath) {
    const connection = this.getConnection();
    return new Promise((resolve, reject) => {
      connection.openssh_forwardOutStreamLocal(socketPath, (error, channel) => {
        if (error) {
          reject(error);
          return;
        }
        resolve(channel);
      });
    });
  }
  dispose() {
    if (this.connection) {
      this.connection.end();
      this.connection = null;
    }
  }
};

// src/remote/ssh-connection.ts
var ChannelSlots = class {
  #free;
  #waiting = [];
  constructor(size) {
    this.#free = size;
  }
  async acquire() {
    if (this.#free > 0) this.#free--;
    else await new Promise((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
};
function abortReason(signal, doing) {
  const reason = signal.reason;
  if (reason instanceof DrillError) return reason;
  return new InfrastructureError(`aborted while ${doing}`);
}
var SshConnection = class _SshConnection {
  address;
  hostKeyFingerprint;
  #ssh;
  #client;
  #slots;
  #lost = null;
  /** what to tell each command in flight when the connection goes: it fails at once, never hangs */
  #inFlight = /* @__PURE__ */ new Set();
  constructor(address, ssh, client, hostKeyFingerprint, maxChannels) {
    this.address = address;
    this.#ssh = ssh;
    this.#client = client;
    this.hostKeyFingerprint = hostKeyFingerprint;
    this.#slots = new ChannelSlots(maxChannels);
    client.on("error", (error) => {
      this.#lost ??= errorMessage(error);
    });
    client.on("close", () => {
      this.#lost ??= "the connection closed";
      const lost = new InfrastructureError(`the SSH connection to ${this.where} was lost (${this.#lost})`);
      for (const notify of [...this.#inFlight]) notify(lost);
    });
  }
  get where() {
    return formatSshAddress(this.address);
  }
  static async open(options) {
    const { address, knownHosts } = options;
    const where = formatSshAddress(address);
    if (options.signal?.aborted) throw abortReason(options.signal, `connecting to ${where}`);
    let verdict;
    let offered;
    const ssh = new NodeSSH();
    const algorithms = hostKeyAlgorithmsFor(knownHosts, address.host, address.port);
    const connecting = ssh.connect({
      host: address.host,
      port: address.port,
      username: address.user,
      privateKey: options.identity.privateKey.reveal(),
      ...options.identity.passphrase ? { passphrase: options.identity.passphrase.reveal() } : {},
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: options.keepaliveIntervalMs ?? 5e3,
      keepaliveCountMax: 3,
      // no agent, no keyboard-interactive, no password: the key given, or nothing
      tryKeyboard: false,
      ...algorithms ? { algorithms: { serverHostKey: algorithms } } : {},
      hostVerifier: (key) => {
        offered = Buffer.from(key);
        verdict = verifyHostKey(knownHosts, address.host, address.port, offered);
        return verdict.outcome === "match" || verdict.outcome === "unknown" && options.acceptNewHostKey;
      }
    });
    const onAbort = () => {
      ssh.connection?.destroy();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await connecting;
    } catch (error) {
      ssh.dispose();
      if (options.signal?.aborted) throw abortReason(options.signal, `connecting to ${where}`);
      throw connectError(error, where, options, verdict, offered);
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
    const client = ssh.connection;
    if (!client || !offered || !verdict) {
      ssh.dispose();
      throw new InfrastructureError(`connecting to ${where}: the connection closed right after it opened`);
    }
    if (verdict.outcome === "unknown") {
      await appendKnownHost(knownHosts.file, address.host, address.port, offered).catch((error) => {
        ssh.dispose();
        throw new FieldError("knownHosts", `could not record ${where}'s key in ${knownHosts.file}: ${errorMessage(error)}`);
      });
    }
    return new _SshConnection(address, ssh, client, fingerprint(offered), options.maxChannels ?? 4);
  }
  #assertUsable(doing) {
    if (this.#lost !== null) throw new InfrastructureError(`the SSH connection to ${this.where} was lost (${this.#lost}) before ${doing}`);
  }
  /**
   * Opens a channel running `command`. ssh2 calls back when the exec request is answered and
   * may, in the same tick, deliver a fast command's exit status; the exit listener is attached
   * inside the callback so that it cannot be missed (the output is buffered by the stream).
   */
  async #openChannel(command, options) {
    const what = options.what;
    this.#assertUsable(what);
    return new Promise((resolve, reject) => {
      let settled = false;
      const giveUp = (error) => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(error);
      };
      const timer = setTimeout(() => giveUp(new InfrastructureError(`${what} on ${this.where}: no channel within ${formatDuration(options.timeoutMs)}`)), options.timeoutMs);
      const onAbort = () => giveUp(abortReason(options.signal, what));
      const onLost = (error) => giveUp(new InfrastructureError(`${what}: ${error.message}`));
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.#inFlight.delete(onLost);
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.#inFlight.add(onLost);
      const opened = (error, channel) => {
        if (settled) {
          channel?.close();
          return;
        }
        settled = true;
        cleanup();
        if (error) {
          reject(new InfrastructureError(`${what} on ${this.where}: could not open a channel: ${error.message}`));
          return;
        }
        const exit = { seen: false, code: null, signal: null };
        channel.on("exit", (code, signalName) => {
          exit.seen = true;
          exit.code = code;
          exit.signal = signalName ?? null;
        });
        resolve({ channel, exit });
      };
      try {
        this.#client.exec(command, opened);
      } catch (error) {
        giveUp(new InfrastructureError(`${what} on ${this.where}: ${errorMessage(error)}`));
      }
    });
  }
  /** Runs one command from the fixed list and collects its output, bounded. */
  async exec(command, options) {
    const calledAt = Date.now();
    const release = await this.#slots.acquire();
    const started = Date.now();
    try {
      if (options.signal?.aborted) throw abortReason(options.signal, options.what);
      const sent = this.#boundAtSend(command, options, calledAt);
      const { channel, exit } = await this.#openChannel(sent.line, { ...options, timeoutMs: sent.waitMs });
      return await new Promise((resolve, reject) => {
        const chunks = [];
        let size = 0;
        let overflowed = false;
        const stderr = new BoundedText(64 * 1024);
        let failure;
        let settled = false;
        const settle = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
          this.#inFlight.delete(onLost);
          if (failure) return reject(failure);
          if (exit.seen && sent.endedByHost(exit.code)) return reject(sent.timedOut());
          if (!exit.seen && !overflowed) {
            return reject(new InfrastructureError(`${options.what} on ${this.where}: the channel closed without an exit status (${this.#lost ?? "connection lost?"})`));
          }
          resolve({ exitCode: exit.code, signal: exit.signal, stdout: Buffer.concat(chunks), stderr: stderr.text(), overflowed, durationMs: Date.now() - started });
        };
        const stop = (error) => {
          failure ??= error;
          abandon(channel);
          settle();
        };
        const onLost = (error) => {
          failure ??= new InfrastructureError(`${options.what}: ${error.message}`);
          settle();
        };
        this.#inFlight.add(onLost);
        const timer = setTimeout(() => stop(sent.timedOut()), sent.leftMs());
        const onAbort = () => stop(abortReason(options.signal, options.what));
        options.signal?.addEventListener("abort", onAbort, { once: true });
        channel.on("data", (chunk) => {
          if (overflowed) return;
          const room = options.maxStdoutBytes - size;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            size += room;
            overflowed = true;
            stop(void 0);
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        channel.stderr.on("data", (chunk) => stderr.push(chunk));
        channel.on("close", settle);
      });
    } finally {
      release();
    }
  }
  /**
   * Streams a command's stdout into a local file, hashing it on the way. `idleTimeoutMs`
   * bounds a stall (no byte for that long), `timeoutMs` the whole transfer; more than
   * `maxBytes` is refused (the remote file grew, or it is not what the listing said).
   */
  async streamToFile(command, file, options) {
    const out = createWriteStream(file, { mode: 384 });
    let failure = null;
    out.on("error", (error) => {
      failure ??= scratchError(file, "writing", error);
    });
    const sink = {
      write: (chunk) => new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        if (out.write(chunk)) return resolve(true);
        const drained = () => {
          out.off("error", failed);
          resolve(true);
        };
        const failed = () => {
          out.off("drain", drained);
          reject(failure);
        };
        out.once("drain", drained);
        out.once("error", failed);
      }),
      end: () => new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        out.once("error", () => reject(failure));
        out.end(() => failure ? reject(failure) : resolve());
      }),
      abort: () => out.destroy()
    };
    const streamed = await this.streamTo(command, sink, options);
    return { bytes: streamed.bytes, sha256: streamed.sha256, exitCode: streamed.exitCode, stderr: streamed.stderr };
  }
  /**
   * Streams a command's stdout chunk by chunk into `sink`, hashing it on the way; the channel
   * is paused while the sink works on a chunk. `idleTimeoutMs` bounds a stall (no byte for
   * that long), `timeoutMs` the whole transfer; more than `maxBytes` is refused. A sink that
   * wants no more (its write resolves false) ends the transfer early: the command is killed,
   * its exit status not waited for, and the result says `stopped`.
   */
  async streamTo(command, sink, options) {
    const calledAt = Date.now();
    const release = await this.#slots.acquire();
    try {
      if (options.signal?.aborted) throw abortReason(options.signal, options.what);
      const sent = this.#boundAtSend(command, options, calledAt);
      const { channel, exit } = await this.#openChannel(sent.line, { ...options, timeoutMs: sent.waitMs });
      const stderr = new BoundedText(64 * 1024);
      channel.stderr.on("data", (chunk) => stderr.push(chunk));
      const hash = createHash("sha256");
      let bytes = 0;
      let stopped = false;
      await new Promise((resolve, reject) => {
        let settled = false;
        let ended = false;
        let closed = false;
        let pending = Promise.resolve();
        const finish = (error) => {
          if (settled) return;
          settled = true;
          clearTimeout(idle);
          clearTimeout(whole);
          options.signal?.removeEventListener("abort", onAbort);
          this.#inFlight.delete(onLost);
          if (error) {
            abandon(channel);
            sink.abort();
            reject(error);
          } else {
            if (stopped) abandon(channel);
            sink.end().then(resolve, (sinkError) => reject(sinkError instanceof Error ? sinkError : new Error(String(sinkError))));
          }
        };
        const maybeDone = () => {
          if (!ended || !closed) return;
          void pending.then(() => {
            if (!exit.seen) finish(new InfrastructureError(`${options.what} from ${this.where}: the channel closed without an exit status (${this.#lost ?? "connection lost?"})`));
            else if (sent.endedByHost(exit.code)) finish(sent.timedOut());
            else finish();
          });
        };
        const stalled = () => finish(new InfrastructureError(`${options.what} from ${this.where} stalled: no data for ${formatDuration(options.idleTimeoutMs)}`));
        let idle = setTimeout(stalled, options.idleTimeoutMs);
        const whole = setTimeout(() => finish(sent.timedOut()), sent.leftMs());
        const onAbort = () => finish(abortReason(options.signal, options.what));
        options.signal?.addEventListener("abort", onAbort, { once: true });
        const onLost = (error) => finish(new InfrastructureError(`${options.what}: ${error.message}`));
        this.#inFlight.add(onLost);
        channel.on("data", (chunk) => {
          if (settled || stopped) return;
          clearTimeout(idle);
          idle = setTimeout(stalled, options.idleTimeoutMs);
          bytes += chunk.length;
          if (bytes > options.maxBytes) {
            finish(new InfrastructureError(`${options.what} from ${this.where}: more than the ${options.maxBytes} bytes listed; the file changed during the run`));
            return;
          }
          hash.update(chunk);
          channel.pause();
          pending = pending.then(() => settled ? true : sink.write(chunk)).then(
            (more) => {
              if (settled) return;
              if (more) channel.resume();
              else {
                stopped = true;
                finish();
              }
            },
            (error) => finish(error instanceof Error ? error : new Error(String(error)))
          );
        });
        channel.on("end", () => {
          ended = true;
          maybeDone();
        });
        channel.on("close", () => {
          closed = true;
          ended = true;
          maybeDone();
        });
      });
      return { bytes, sha256: hash.digest("hex"), exitCode: exit.code, stderr: stderr.text(), stopped };
    } finally {
      release();
    }
  }
  /**
   * The command line as sent, with the host's own bound computed now from what is left of
   * the call's limit and of the run's budget: the host's `timeout` (its KILL included) ends
   * the command before the harness stops waiting, so nothing outlives the harness's cut.
   */
  #boundAtSend(command, options, calledAt) {
    const sentAt = Date.now();
    const waitMs = Math.min(options.timeoutMs - (sentAt - calledAt), options.deadline?.remainingMs() ?? Number.POSITIVE_INFINITY);
    const bound = remoteBound(waitMs);
    if (!bound) throw new InfrastructureError(`${options.what} on ${this.where}: not sent, only ${formatDuration(Math.max(0, waitMs))} of its time limit left`);
    const timedOut = () => new InfrastructureError(`${options.what} on ${this.where} timed out after ${formatDuration(Date.now() - sentAt)} (limit ${formatDuration(waitMs)})`);
    return {
      line: renderRemoteCommand(command, bound),
      waitMs,
      leftMs: () => Math.max(0, sentAt + waitMs - Date.now()),
      // coreutils' timeout exits 124 after its TERM, 137 after its KILL; not before its bound
      endedByHost: (code) => (code === 124 || code === 137) && Date.now() - sentAt >= bound.seconds * 1e3,
      timedOut
    };
  }
  close() {
    this.#lost ??= "closed by the harness";
    this.#ssh.dispose();
  }
};
var MIN_REMOTE_WAIT_MS = 500;
var REMOTE_KILL_GRACE_S = 5;
var tenths = (seconds) => Math.floor(seconds * 10 + 1e-6) / 10;
function remoteBound(waitMs) {
  if (!(waitMs >= MIN_REMOTE_WAIT_MS)) return null;
  const available = (waitMs - Math.min(1e3, waitMs / 10)) / 1e3;
  if (available >= 2 * REMOTE_KILL_GRACE_S) return { seconds: Math.floor(available) - REMOTE_KILL_GRACE_S, killAfterSeconds: REMOTE_KILL_GRACE_S };
  const killAfterSeconds = Math.max(0.1, tenths(available / 4));
  return { seconds: Math.max(0.1, tenths(available - killAfterSeconds)), killAfterSeconds };
}
function abandon(channel) {
  try {
    channel.signal("KILL");
  } catch {
  }
  channel.close();
}
function connectError(error, where, options, verdict, offered) {
  const file = options.knownHosts.file;
  if (verdict && offered && verdict.outcome !== "match" && !(verdict.outcome === "unknown" && options.acceptNewHostKey)) {
    const print = fingerprint(offered);
    if (verdict.outcome === "unknown") {
      return new FieldError(
        "knownHosts",
        (names) => `${names.one("knownHosts")}: ${where} is not in ${file}; refusing its host key ${print}. Add the host's key (e.g. from \`ssh-keyscan -p ${options.address.port} ${options.address.host}\`, checked against the host itself), or set ${names.one("acceptNewHostKey")} once to trust it on first use`
      );
    }
    if (verdict.outcome === "revoked") return new FieldError("knownHosts", `${where} presented host key ${print}, which ${file} line ${verdict.lineNumber} marks @revoked; refusing it`);
    return new FieldError(
      "knownHosts",
      `the host key of ${where} has CHANGED: it presented ${print}, which does not match ${file} (line${verdict.lineNumbers.length > 1 ? "s" : ""} ${verdict.lineNumbers.join(", ")}). Someone may be intercepting the connection, or the host was reinstalled; refusing to connect`
    );
  }
  const message = errorMessage(error);
  const level = error.level;
  if (level === "client-authentication" || /authentication methods failed/i.test(message)) {
    return new UsageError(`${options.identity.description}: ${where} refused the key (${message})`);
  }
  if (level === "client-timeout" || /timed out/i.test(message)) {
    return new InfrastructureError(`connecting to ${where}: no SSH handshake within ${formatDuration(options.connectTimeoutMs)} (${message})`);
  }
  return new InfrastructureError(`connecting to ${where}: ${message}`);
}

export {
  SshConnection,
  MIN_REMOTE_WAIT_MS,
  REMOTE_KILL_GRACE_S,
  remoteBound
};
