// pickle_scan.cc -- pickle opcode walker and the allow-list-first policy (see pickle_scan.h).
// Opcode set and argument encodings follow CPython's Lib/pickletools.py, protocols 0 to 5.
#include "pickle_scan.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <variant>

#include "archive_reader.h"

namespace stagehost::security_scan {
namespace {

// A value on the simulated stack: a string we know, an imported global, a mark, or anything.
struct Value {
  enum class Kind { kOther, kString, kGlobal, kMark } kind = Kind::kOther;
  std::string text;        // kString
  std::size_t import = 0;  // kGlobal: index into imports
};

class Walker {
 public:
  explicit Walker(std::string_view data) : d_(data) {}

  PickleWalk Run() {
    w_.started_with_proto = !d_.empty() && static_cast<unsigned char>(d_[0]) == 0x80;
    while (pos_ < d_.size()) {
      // Between pickles (after STOP) only padding may follow; stop at the first non-opcode byte.
      const std::size_t start = pos_;
      if (!OnePickle()) break;
      ++w_.pickles;
      if (pos_ == start) break;
      while (pos_ < d_.size() && (d_[pos_] == '\n' || d_[pos_] == '\0')) ++pos_;
      if (pos_ < d_.size() && !PlausibleStart(static_cast<unsigned char>(d_[pos_]))) break;
    }
    return std::move(w_);
  }

 private:
  static bool PlausibleStart(unsigned char c) {
    return c == 0x80 || c == '(' || c == 'c' || c == ']' || c == '}';
  }

  bool Need(std::size_t n) {
    if (d_.size() - pos_ < n) {
      w_.truncated = true;
      return false;
    }
    return true;
  }
  std::uint64_t LittleEndian(std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(d_[pos_ + i])) << (8 * i);
    }
    pos_ += n;
    return v;
  }
  std::optional<std::string> Line() {
    const void* nl = std::memchr(d_.data() + pos_, '\n', d_.size() - pos_);
    if (!nl) {
      w_.truncated = true;
      return std::nullopt;
    }
    const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - d_.data());
    std::string s(d_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  std::optional<std::string> Counted(std::size_t len_bytes) {
    if (!Need(len_bytes)) return std::nullopt;
    const std::uint64_t n = LittleEndian(len_bytes);
    if (n > d_.size() - pos_) {
      w_.truncated = true;
      return std::nullopt;
    }
    std::string s(d_.substr(pos_, static_cast<std::size_t>(n)));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }

  void Push(Value v) { stack_.push_back(std::move(v)); }
  void PushString(std::string s) { Push(Value{Value::Kind::kString, std::move(s), 0}); }
  void PushOther() { Push(Value{}); }
  Value Pop() {
    if (stack_.empty()) return Value{};  // underflow: malformed, keep going conservatively
    Value v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  std::vector<Value> PopToMark() {
    std::vector<Value> items;
    while (!stack_.empty() && stack_.back().kind != Value::Kind::kMark) {
      items.push_back(std::move(stack_.back()));
      stack_.pop_back();
    }
    if (!stack_.empty()) stack_.pop_back();
    std::reverse(items.begin(), items.end());
    return items;
  }
  void MarkCalled(const Value& v) {
    if (v.kind == Value::Kind::kGlobal) w_.imports[v.import].called = true;
  }
  std::size_t AddImport(std::string module, std::string name, const char* op, std::size_t at,
                        bool resolved) {
    w_.imports.push_back(PickleImport{std::move(module), std::move(name), op, at, resolved, false});
    return w_.imports.size() - 1;
  }
  void PushGlobal(std::size_t idx) { Push(Value{Value::Kind::kGlobal, "", idx}); }

  // Returns false at an unknown opcode or truncation; true after STOP.
  bool OnePickle() {
    stack_.clear();
    memo_.clear();
    while (pos_ < d_.size()) {
      const std::size_t at = pos_;
      const unsigned char op = static_cast<unsigned char>(d_[pos_++]);
      ++w_.opcodes;
      switch (op) {
        case 0x80:
          if (!Need(1)) return false;
          pos_ += 1;
          break;  // PROTO
        case 0x95:
          if (!Need(8)) return false;
          pos_ += 8;
          break;  // FRAME
        case '.':
          return true;  // STOP
        case '(':
          Push(Value{Value::Kind::kMark, "", 0});
          break;  // MARK
        case '0':
          Pop();
          break;  // POP
        case '1':
          PopToMark();
          break;  // POP_MARK
        case '2':
          Push(stack_.empty() ? Value{} : stack_.back());
          break;  // DUP
        // Scalars pushed as "other".
        case 'N':
        case 0x88:
        case 0x89:
        case ')':
        case ']':
        case '}':
        case 0x8f:
          PushOther();
          break;
        case 'I':
        case 'L':
        case 'F':  // INT LONG FLOAT
          if (!Line()) return false;
          PushOther();
          break;
        case 'J':
          if (!Need(4)) return false;
          pos_ += 4;
          PushOther();
          break;  // BININT
        case 'K':
          if (!Need(1)) return false;
          pos_ += 1;
          PushOther();
          break;  // BININT1
        case 'M':
          if (!Need(2)) return false;
          pos_ += 2;
          PushOther();
          break;  // BININT2
        case 'G':
          if (!Need(8)) return false;
          pos_ += 8;
          PushOther();
          break;  // BINFLOAT
        case 0x8a: {
          auto s = Counted(1);
          if (!s) return false;
          PushOther();
          break;
        }  // LONG1
        case 0x8b: {
          auto s = Counted(4);
          if (!s) return false;
          PushOther();
          break;
        }  // LONG4
        // Strings (module/attribute names for STACK_GLOBAL come from these).
        case 'S': {  // STRING 'quoted'
          auto s = Line();
          if (!s) return false;
          std::string v = *s;
          if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"'))
            v = v.substr(1, v.size() - 2);
          PushString(v);
          break;
        }
        case 'V': {
          auto s = Line();
          if (!s) return false;
          PushString(*s);
          break;
        }  // UNICODE
        case 'T':
        case 'X':
        case 'B': {  // BINSTRING BINUNICODE BINBYTES
          auto s = Counted(4);
          if (!s) return false;
          PushString(*s);
          break;
        }
        case 'U':
        case 0x8c:
        case 'C': {  // SHORT_BINSTRING SHORT_BINUNICODE SHORT_BINBYTES
          auto s = Counted(1);
          if (!s) return false;
          PushString(*s);
          break;
        }
        case 0x8d:
        case 0x8e:
        case 0x96: {  // BINUNICODE8 BINBYTES8 BYTEARRAY8
          auto s = Counted(8);
          if (!s) return false;
          PushString(*s);
          break;
        }
        case 0x97:
          PushOther();
          break;  // NEXT_BUFFER (out-of-band data)
        case 0x98:
          break;  // READONLY_BUFFER
        // Containers.
        case 'a':
          Pop();
          break;  // APPEND
        case 'e':
        case 'u':
        case 0x90:
          PopToMark();
          break;  // APPENDS SETITEMS ADDITEMS
        case 's':
          Pop();
          Pop();
          break;  // SETITEM
        case 't':
        case 'l':
        case 'd':
        case 0x91:
          PopToMark();
          PushOther();
          break;
        case 0x85:
          Pop();
          PushOther();
          break;  // TUPLE1
        case 0x86:
          Pop();
          Pop();
          PushOther();
          break;  // TUPLE2
        case 0x87:
          Pop();
          Pop();
          Pop();
          PushOther();
          break;  // TUPLE3
        // Memo: STACK_GLOBAL operands may come back through it.
        case 'p': {
          auto s = Line();
          if (!s) return false;
          Put(std::strtoull(s->c_str(), nullptr, 10));
          break;
        }
        case 'q':
          if (!Need(1)) return false;
          Put(LittleEndian(1));
          break;  // BINPUT
        case 'r':
          if (!Need(4)) return false;
          Put(LittleEndian(4));
          break;  // LONG_BINPUT
        case 0x94:
          Put(memo_.size());
          break;  // MEMOIZE
        case 'g': {
          auto s = Line();
          if (!s) return false;
          Get(std::strtoull(s->c_str(), nullptr, 10));
          break;
        }
        case 'h':
          if (!Need(1)) return false;
          Get(LittleEndian(1));
          break;  // BINGET
        case 'j':
          if (!Need(4)) return false;
          Get(LittleEndian(4));
          break;  // LONG_BINGET
        // Imports.
        case 'c': {  // GLOBAL
          auto module = Line();
          if (!module) return false;
          auto name = Line();
          if (!name) return false;
          PushGlobal(AddImport(*module, *name, "GLOBAL", at, true));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Value name = Pop(), module = Pop();
          const bool ok = name.kind == Value::Kind::kString && module.kind == Value::Kind::kString;
          PushGlobal(AddImport(ok ? module.text : "", ok ? name.text : "", "STACK_GLOBAL", at, ok));
          break;
        }
        case 'i': {  // INST
          auto module = Line();
          if (!module) return false;
          auto name = Line();
          if (!name) return false;
          PopToMark();
          const std::size_t idx = AddImport(*module, *name, "INST", at, true);
          w_.imports[idx].called = true;
          PushOther();
          break;
        }
        case 0x82:
        case 0x83:
        case 0x84: {  // EXT1 EXT2 EXT4
          const std::size_t n = op == 0x82 ? 1 : op == 0x83 ? 2 : 4;
          if (!Need(n)) return false;
          const std::uint64_t code = LittleEndian(n);
          PushGlobal(AddImport("copyreg-extension", std::to_string(code),
                               op == 0x82   ? "EXT1"
                               : op == 0x83 ? "EXT2"
                                            : "EXT4",
                               at, false));
          break;
        }
        // Calls.
        case 'R': {
          Pop();
          Value f = Pop();
          MarkCalled(f);
          PushOther();
          break;
        }  // REDUCE
        case 0x81: {
          Pop();
          Value c = Pop();
          MarkCalled(c);
          PushOther();
          break;
        }  // NEWOBJ
        case 0x92: {
          Pop();
          Pop();
          Value c = Pop();
          MarkCalled(c);
          PushOther();
          break;
        }            // NEWOBJ_EX
        case 'o': {  // OBJ
          auto items = PopToMark();
          if (!items.empty()) MarkCalled(items.front());
          PushOther();
          break;
        }
        case 'b': {
          Pop();
          if (!stack_.empty()) MarkCalled(stack_.back());
          break;
        }  // BUILD
        case 'P': {
          auto s = Line();
          if (!s) return false;
          w_.persistent_ids = true;
          PushOther();
          break;
        }
        case 'Q':
          Pop();
          w_.persistent_ids = true;
          PushOther();
          break;  // BINPERSID
        default:
          w_.error = "unknown opcode 0x" + Hex(op) + " at offset " + std::to_string(at);
          return false;
      }
    }
    w_.truncated = true;  // ran out of data before STOP
    return false;
  }

  void Put(std::uint64_t idx) { memo_[idx] = stack_.empty() ? Value{} : stack_.back(); }
  void Get(std::uint64_t idx) {
    auto it = memo_.find(idx);
    Push(it == memo_.end() ? Value{} : it->second);
  }
  static std::string Hex(unsigned char c) {
    static constexpr char k[] = "0123456789abcdef";
    return std::string{k[c >> 4], k[c & 15]};
  }

  std::string_view d_;
  std::size_t pos_ = 0;
  std::vector<Value> stack_;
  std::map<std::uint64_t, Value> memo_;
  PickleWalk w_;
};

bool GlobMatch(std::string_view pattern, std::string_view module, std::string_view name) {
  const std::string full = std::string(module) + "." + std::string(name);
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*") {
    const std::string_view prefix = pattern.substr(0, pattern.size() - 2);
    return module == prefix ||
           (module.size() > prefix.size() && module.substr(0, prefix.size()) == prefix &&
            module[prefix.size()] == '.');
  }
  return full == pattern;
}

// Built-in safe globals: what PyTorch, NumPy, joblib and plain containers need to rebuild data.
constexpr const char* kSafeGlobals[] = {"collections.OrderedDict",
                                        "collections.defaultdict",
                                        "collections.Counter",
                                        "collections.deque",
                                        "builtins.set",
                                        "builtins.frozenset",
                                        "builtins.dict",
                                        "builtins.list",
                                        "builtins.tuple",
                                        "builtins.bytearray",
                                        "builtins.bytes",
                                        "builtins.int",
                                        "builtins.float",
                                        "builtins.complex",
                                        "builtins.str",
                                        "builtins.bool",
                                        "builtins.slice",
                                        "builtins.range",
                                        "__builtin__.set",
                                        "__builtin__.frozenset",
                                        "__builtin__.slice",
                                        "copy_reg._reconstructor",
                                        "copyreg._reconstructor",
                                        "builtins.object",
                                        "__builtin__.object",
                                        "_codecs.encode",
                                        "datetime.datetime",
                                        "datetime.date",
                                        "datetime.timedelta",
                                        "decimal.Decimal",
                                        "torch._utils._rebuild_tensor",
                                        "torch._utils._rebuild_tensor_v2",
                                        "torch._utils._rebuild_tensor_v3",
                                        "torch._utils._rebuild_parameter",
                                        "torch._utils._rebuild_parameter_with_state",
                                        "torch._utils._rebuild_sparse_tensor",
                                        "torch._utils._rebuild_device_tensor_from_numpy",
                                        "torch._utils._rebuild_qtensor",
                                        "torch.Size",
                                        "torch.device",
                                        "torch.dtype",
                                        "torch.float32",
                                        "torch.float16",
                                        "torch.bfloat16",
                                        "torch.float64",
                                        "torch.int64",
                                        "torch.int32",
                                        "torch.uint8",
                                        "torch.bool",
                                        "torch.FloatStorage",
                                        "torch.HalfStorage",
                                        "torch.BFloat16Storage",
                                        "torch.DoubleStorage",
                                        "torch.LongStorage",
                                        "torch.IntStorage",
                                        "torch.ShortStorage",
                                        "torch.CharStorage",
                                        "torch.ByteStorage",
                                        "torch.BoolStorage",
                                        "torch.storage.UntypedStorage",
                                        "torch.storage.TypedStorage",
                                        "torch.nn.parameter.Parameter",
                                        "numpy.core.multiarray._reconstruct",
                                        "numpy._core.multiarray._reconstruct",
                                        "numpy.core.multiarray.scalar",
                                        "numpy._core.multiarray.scalar",
                                        "numpy.ndarray",
                                        "numpy.dtype",
                                        "numpy.core.numeric._frombuffer",
                                        "numpy._core.numeric._frombuffer",
                                        "joblib.numpy_pickle.NumpyArrayWrapper",
                                        "joblib.numpy_pickle.NDArrayWrapper",
                                        "sklearn.utils._bunch.Bunch"};

struct Dangerous {
  const char* pattern;  // module.* or module.name
  Severity severity;
  const char* why;
};

// Known-dangerous callables, by what they let a pickle do when loaded.
constexpr Dangerous kDangerous[] = {
    {"os.*", Severity::kCritical, "operating-system calls (command execution, file access)"},
    {"posix.*", Severity::kCritical, "os functions as pickled on Linux/macOS (posix.system)"},
    {"nt.*", Severity::kCritical, "os functions as pickled on Windows (nt.system)"},
    {"subprocess.*", Severity::kCritical, "runs programs"},
    {"pty.*", Severity::kCritical, "spawns a shell"},
    {"commands.*", Severity::kCritical, "runs shell commands (Python 2)"},
    {"runpy.*", Severity::kCritical, "runs Python modules or files"},
    {"builtins.eval", Severity::kCritical, "evaluates code"},
    {"builtins.exec", Severity::kCritical, "executes code"},
    {"builtins.compile", Severity::kCritical, "compiles code"},
    {"builtins.__import__", Severity::kCritical, "imports arbitrary modules"},
    {"builtins.getattr", Severity::kCritical, "reaches any attribute (gadget chains)"},
    {"builtins.open", Severity::kCritical, "opens files"},
    {"builtins.breakpoint", Severity::kCritical, "starts a debugger"},
    {"__builtin__.eval", Severity::kCritical, "evaluates code"},
    {"__builtin__.exec", Severity::kCritical, "executes code"},
    {"__builtin__.execfile", Severity::kCritical, "executes a file"},
    {"__builtin__.compile", Severity::kCritical, "compiles code"},
    {"__builtin__.__import__", Severity::kCritical, "imports arbitrary modules"},
    {"__builtin__.getattr", Severity::kCritical, "reaches any attribute (gadget chains)"},
    {"__builtin__.open", Severity::kCritical, "opens files"},
    {"__builtin__.apply", Severity::kCritical, "calls any callable"},
    {"importlib.*", Severity::kCritical, "imports arbitrary modules"},
    {"code.*", Severity::kCritical, "interactive interpreter"},
    {"ctypes.*", Severity::kCritical, "native code"},
    {"socket.*", Severity::kCritical, "network access"},
    {"shutil.*", Severity::kCritical, "file operations"},
    {"sys.*", Severity::kCritical, "interpreter internals"},
    {"pickle.*", Severity::kCritical, "nested unpickling"},
    {"_pickle.*", Severity::kCritical, "nested unpickling"},
    {"cPickle.*", Severity::kCritical, "nested unpickling"},
    {"dill.*", Severity::kCritical, "nested unpickling"},
    {"marshal.*", Severity::kCritical, "loads code objects"},
    {"types.*", Severity::kCritical, "builds code and function objects"},
    {"pdb.*", Severity::kCritical, "debugger"},
    {"bdb.*", Severity::kCritical, "debugger"},
    {"asyncio.*", Severity::kCritical, "subprocess and network access"},
    {"multiprocessing.*", Severity::kCritical, "spawns processes"},
    {"torch.utils.collect_env.*", Severity::kCritical, "runs commands (collect_env.run)"},
    {"torch.storage._load_from_bytes", Severity::kHigh, "nested torch.load"},
    {"numpy.f2py.*", Severity::kHigh, "compiles and loads code"},
    {"numpy.load", Severity::kHigh, "nested loading with pickle"},
    {"operator.attrgetter", Severity::kHigh, "reaches any attribute (gadget chains)"},
    {"operator.methodcaller", Severity::kHigh, "calls any method (gadget chains)"},
    {"functools.partial", Severity::kHigh, "wraps any callable"},
    {"webbrowser.*", Severity::kHigh, "opens URLs"},
    {"httplib.*", Severity::kHigh, "network access"},
    {"http.client.*", Severity::kHigh, "network access"},
    {"urllib.*", Severity::kHigh, "network access"},
    {"urllib2.*", Severity::kHigh, "network access"},
    {"requests.*", Severity::kHigh, "network access"},
    {"aiohttp.*", Severity::kHigh, "network access"},
    {"tempfile.*", Severity::kHigh, "file creation"},
    {"glob.*", Severity::kHigh, "file-system access"},
    {"io.*", Severity::kHigh, "file access"},
};

}  // namespace

PickleWalk WalkPickle(std::string_view data) { return Walker(data).Run(); }

Severity ClassifyGlobal(std::string_view module, std::string_view name, const ModelPolicy& policy,
                        std::string* reason) {
  for (const Dangerous& d : kDangerous) {
    if (GlobMatch(d.pattern, module, name)) {
      if (reason) *reason = d.why;
      return d.severity;
    }
  }
  for (const char* safe : kSafeGlobals) {
    if (GlobMatch(safe, module, name)) {
      if (reason) *reason = "allow-listed";
      return Severity::kInfo;
    }
  }
  for (const auto& allowed : policy.allow_globals) {
    if (GlobMatch(allowed, module, name)) {
      if (reason) *reason = "allow-listed by the config";
      return Severity::kInfo;
    }
  }
  if (reason) *reason = "not on the allow-list of safe globals";
  return policy.unknown_global;
}

bool LooksLikeModelFile(std::string_view rel_path, std::string_view head) {
  static constexpr const char* kExt[] = {".pkl", ".pickle", ".joblib", ".pt",  ".pth",
                                         ".bin", ".ckpt",   ".npy",    ".npz", ".dat",
                                         ".sav", ".model",  ".p"};
  const std::size_t dot = rel_path.rfind('.');
  if (dot != std::string_view::npos && rel_path.find('/', dot) == std::string_view::npos) {
    std::string ext(rel_path.substr(dot));
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* e : kExt) {
      if (ext == e) return true;
    }
  }
  // PROTO 2..5 then a plausible second opcode, or NumPy's magic.
  if (head.size() >= 3 && static_cast<unsigned char>(head[0]) == 0x80 &&
      static_cast<unsigned char>(head[1]) >= 2 && static_cast<unsigned char>(head[1]) <= 5) {
    return true;
  }
  return head.size() >= 6 && head.substr(0, 6) == std::string_view("\x93NUMPY", 6);
}

namespace {

constexpr std::size_t kMaxEntry = 512u << 20;

void ReportWalk(std::string_view location, const PickleWalk& w, const ModelPolicy& policy,
                std::string_view rel_path, std::vector<Finding>& out) {
  for (const PickleImport& imp : w.imports) {
    std::string reason;
    Severity sev;
    std::string rule;
    std::string what;
    if (!imp.resolved) {
      sev = Severity::kHigh;
      rule = "pickle-unresolved-global";
      what = imp.opcode + " whose target is not a literal string (hidden import)";
      reason = "an obfuscated import is treated as dangerous";
    } else {
      sev = ClassifyGlobal(imp.module, imp.name, policy, &reason);
      if (sev == Severity::kInfo) continue;
      rule = sev >= Severity::kHigh ? "pickle-dangerous-global" : "pickle-unknown-global";
      what = imp.opcode + " " + imp.module + "." + imp.name;
    }
    Finding f;
    f.kind = FindingKind::kModel;
    f.severity = sev;
    f.rule_id = rule;
    f.title = rule == "pickle-dangerous-global" ? "Pickle imports a dangerous callable"
              : rule == "pickle-unknown-global"
                  ? "Pickle imports a global outside the allow-list"
                  : "Pickle import that cannot be resolved statically";
    f.path = std::string(rel_path);
    f.message = std::string(location) + ": " + what + (imp.called ? " (called)" : "") +
                " at byte " + std::to_string(imp.offset) + ": " + reason;
    f.fingerprint = Fingerprint({rule, rel_path, location, imp.module, imp.name});
    f.redacted = imp.module + "." + imp.name;
    out.push_back(std::move(f));
  }
  // Only a stream that starts like a pickle (PROTO) is expected to parse to the end; other files
  // with a model-like extension may be any binary.
  const bool pickle_like =
      w.opcodes > 0 && w.pickles + (w.error.empty() ? 0 : 1) > 0 && w.started_with_proto;
  if (!w.error.empty() && pickle_like) {
    Finding f;
    f.kind = FindingKind::kModel;
    f.severity = Severity::kLow;
    f.rule_id = "pickle-unparsed";
    f.title = "Pickle stream could not be read to the end";
    f.path = std::string(rel_path);
    f.message =
        std::string(location) + ": " + w.error + "; anything after this point was not inspected";
    f.fingerprint = Fingerprint({f.rule_id, rel_path, location});
    out.push_back(std::move(f));
  }
}

bool IsPickleName(std::string_view name) {
  for (std::string_view ext : {".pkl", ".pickle", "data.pkl", ".joblib"}) {
    if (name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext) return true;
  }
  return false;
}

void ScanNpy(std::string_view location, std::string_view data, const ModelPolicy& policy,
             std::string_view rel_path, std::vector<Finding>& out) {
  // \x93NUMPY major minor, header length (2 bytes in v1, 4 in v2/v3), then a dict literal.
  if (data.size() < 10) return;
  const unsigned major = static_cast<unsigned char>(data[6]);
  std::size_t hlen, start;
  if (major == 1) {
    hlen = static_cast<unsigned char>(data[8]) | (static_cast<unsigned char>(data[9]) << 8);
    start = 10;
  } else {
    if (data.size() < 12) return;
    hlen = 0;
    for (int i = 0; i < 4; ++i)
      hlen |= static_cast<std::size_t>(static_cast<unsigned char>(data[8 + i])) << (8 * i);
    start = 12;
  }
  if (start + hlen > data.size()) return;
  const std::string_view header = data.substr(start, hlen);
  // Only object arrays carry a pickle (dtype 'O' / '|O').
  if (header.find("'descr': '|O'") == std::string_view::npos &&
      header.find("'descr': 'O'") == std::string_view::npos) {
    return;
  }
  ReportWalk(std::string(location) + " (object array)", WalkPickle(data.substr(start + hlen)),
             policy, rel_path, out);
}

}  // namespace

void ScanModelFile(std::string_view rel_path, std::string_view data, const ModelPolicy& policy,
                   std::vector<Finding>& out) {
  if (LooksLikeArchive(data)) {
    try {
      ForEachArchiveEntry(
          data, kMaxEntry, [&](const std::string& name, std::string_view entry, bool truncated) {
            const std::string location = std::string(rel_path) + ":" + name;
            if (entry.size() >= 6 && entry.substr(0, 6) == std::string_view("\x93NUMPY", 6)) {
              ScanNpy(location, entry, policy, rel_path, out);
            } else if (IsPickleName(name) ||
                       (!entry.empty() && static_cast<unsigned char>(entry[0]) == 0x80)) {
              ReportWalk(location, WalkPickle(entry), policy, rel_path, out);
            }
          });
    } catch (const std::exception& e) {
      Finding f;
      f.kind = FindingKind::kModel;
      f.severity = Severity::kLow;
      f.rule_id = "model-archive-unreadable";
      f.title = "Model archive could not be read";
      f.path = std::string(rel_path);
      f.message = std::string(rel_path) + ": " + e.what();
      f.fingerprint = Fingerprint({f.rule_id, rel_path});
      out.push_back(std::move(f));
    }
    return;
  }
  if (data.size() >= 6 && data.substr(0, 6) == std::string_view("\x93NUMPY", 6)) {
    ScanNpy(rel_path, data, policy, rel_path, out);
    return;
  }
  ReportWalk(rel_path, WalkPickle(data), policy, rel_path, out);
}

}  // namespace stagehost::security_scan
