// SecretMatcher: automaton construction and the filtered scan loop.
#include "log/secret_matcher.h"

#include <algorithm>
#include <bit>
#include <deque>

namespace stagehost::log {
namespace {

constexpr uint32_t kNoChild = UINT32_MAX;
// The filter hashes the first min(4, shortest secret) bytes of a window.
constexpr size_t kMaxFilterWidth = 4;

// Byte order independent little-endian load; compilers turn it into one mov on x86 and arm64.
inline uint32_t Load32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

Result<std::shared_ptr<const SecretMatcher>> SecretMatcher::Create(
    std::span<const std::string> secrets) {
  return Build(std::vector<std::string_view>(secrets.begin(), secrets.end()));
}

Result<std::shared_ptr<const SecretMatcher>> SecretMatcher::Create(
    std::span<const std::string_view> secrets) {
  return Build(std::vector<std::string_view>(secrets.begin(), secrets.end()));
}

Result<std::shared_ptr<const SecretMatcher>> SecretMatcher::Build(
    std::vector<std::string_view> secrets) {
  std::erase_if(secrets, [](std::string_view s) { return s.empty(); });
  std::sort(secrets.begin(), secrets.end());
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  size_t total = 0;
  size_t min_length = SIZE_MAX;
  for (std::string_view s : secrets) {
    total += s.size();
    min_length = std::min(min_length, s.size());
  }
  if (total > kMaxTotalBytes) {
    return InvalidArgument("masked values total " + std::to_string(total) + " bytes; at most " +
                           std::to_string(kMaxTotalBytes) + " are supported");
  }

  std::shared_ptr<SecretMatcher> m(new SecretMatcher());
  m->secret_count_ = secrets.size();

  // Trie. Sorted input means each node's children arrive in byte order, and a new child is
  // always appended after the ones already there.
  std::vector<std::vector<Edge>> children(1);
  std::vector<uint32_t> depth(1, 0);
  std::vector<uint32_t> terminal_length(1, 0);
  for (std::string_view s : secrets) {
    uint32_t node = 0;
    for (unsigned char c : s) {
      std::vector<Edge>& kids = children[node];
      if (!kids.empty() && kids.back().byte == c) {
        node = kids.back().target;
        continue;
      }
      uint32_t next = static_cast<uint32_t>(children.size());
      kids.push_back({c, next});
      children.emplace_back();
      depth.push_back(depth[node] + 1);
      terminal_length.push_back(0);
      node = next;
    }
    terminal_length[node] = static_cast<uint32_t>(s.size());
    m->max_length_ = std::max(m->max_length_, s.size());
  }

  // Renumber in breadth-first order so that a node's failure target is always final before the
  // node itself, and lay the edges out contiguously.
  const size_t count = children.size();
  std::vector<uint32_t> order;
  order.reserve(count);
  std::vector<uint32_t> new_id(count);
  order.push_back(0);
  for (size_t k = 0; k < order.size(); ++k) {
    new_id[order[k]] = static_cast<uint32_t>(k);
    for (const Edge& e : children[order[k]]) order.push_back(e.target);
  }
  m->nodes_.resize(count);
  m->edges_.reserve(count - 1);
  for (size_t k = 0; k < count; ++k) {
    Node& n = m->nodes_[k];
    const uint32_t old = order[k];
    n.depth = depth[old];
    n.edges_begin = static_cast<uint32_t>(m->edges_.size());
    n.edge_count = static_cast<uint32_t>(children[old].size());
    for (const Edge& e : children[old]) m->edges_.push_back({e.byte, new_id[e.target]});
  }
  children.clear();
  children.shrink_to_fit();

  // Failure links and outputs, in BFS order. The root and depth-1 nodes get dense rows: they are
  // where the scan spends its automaton steps, and there are at most 257 of them.
  for (size_t k = 0; k < count; ++k) {
    Node& n = m->nodes_[k];
    const uint32_t own_length = terminal_length[order[k]];
    if (k != 0) {
      n.out_length = own_length != 0 ? own_length : m->nodes_[n.fail].out_length;
    }
    if (n.depth <= 1) {
      n.dense_row = static_cast<uint32_t>(m->dense_.size() / 256);
      m->dense_.resize(m->dense_.size() + 256);
      uint32_t* row = &m->dense_[size_t{n.dense_row} * 256];
      // A missing child falls back to the failure node's transition; for depth <= 1 that node is
      // the root, whose row is already complete.
      if (k != 0) std::copy_n(&m->dense_[size_t{m->nodes_[n.fail].dense_row} * 256], 256, row);
      for (uint32_t e = 0; e < n.edge_count; ++e) {
        const Edge edge = m->edges_[n.edges_begin + e];
        row[edge.byte] = edge.target;
      }
    }
    for (uint32_t e = 0; e < n.edge_count; ++e) {
      const Edge edge = m->edges_[n.edges_begin + e];
      m->nodes_[edge.target].fail = k == 0 ? 0 : m->Step(n.fail, edge.byte);
    }
  }

  // Filter over the first `width` bytes of each secret: two bitmaps with independent hashes.
  // The hot loop reads the first (<= 1/512 full, <= 128 KiB) for every byte; only its rare hits
  // read the second, which brings false hits -- each costs a few automaton steps on tables that
  // are cold with many secrets -- down to ~1e-5 of positions.
  if (!secrets.empty()) {
    const size_t width = std::min(kMaxFilterWidth, min_length);
    m->filter_mask_ = width == 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
    auto bits = [&](size_t per_secret, size_t most) {
      return std::clamp<size_t>(std::bit_ceil(secrets.size() * per_secret), 4096, most);
    };
    m->coarse_.Init(bits(512, size_t{1} << 20), 0x9E3779B1u);
    m->fine_.Init(bits(64, size_t{1} << 16), 0x85EBCA77u);
    for (std::string_view s : secrets) {
      uint32_t window = 0;
      for (size_t b = 0; b < width; ++b) window |= uint32_t{static_cast<uint8_t>(s[b])} << (8 * b);
      m->coarse_.Set(window);
      m->fine_.Set(window);
    }
  }
  return std::shared_ptr<const SecretMatcher>(std::move(m));
}

void SecretMatcher::Bitmap::Init(size_t bits, uint32_t multiplier) {
  words_.assign(bits / 64, 0);
  shift_ = 32 - static_cast<uint32_t>(std::countr_zero(bits));
  multiplier_ = multiplier;
}

uint32_t SecretMatcher::Child(const Node& node, uint8_t byte) const {
  const Edge* begin = edges_.data() + node.edges_begin;
  const Edge* end = begin + node.edge_count;
  if (node.edge_count <= 8) {
    for (const Edge* e = begin; e != end; ++e) {
      if (e->byte == byte) return e->target;
    }
    return kNoChild;
  }
  const Edge* e =
      std::lower_bound(begin, end, byte, [](const Edge& a, uint8_t b) { return a.byte < b; });
  return e != end && e->byte == byte ? e->target : kNoChild;
}

uint32_t SecretMatcher::Step(uint32_t node, uint8_t byte) const {
  // Terminates: the failure chain ends at the root, which has a dense row.
  for (;;) {
    const Node& n = nodes_[node];
    if (n.dense_row != kNoRow) return dense_[size_t{n.dense_row} * 256 + byte];
    const uint32_t child = Child(n, byte);
    if (child != kNoChild) return child;
    node = n.fail;
  }
}

bool SecretMatcher::MayStartAt(const uint8_t* p) const {
  const uint32_t window = Load32(p) & filter_mask_;
  return coarse_.Test(window) && fine_.Test(window);
}

size_t SecretMatcher::Scan(State* state, std::string_view data, size_t from,
                           size_t* match_length) const {
  *match_length = 0;
  const size_t n = data.size();
  if (secret_count_ == 0) return n;
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  // Positions whose 4-byte filter window lies inside `data`; later ones count as filter hits.
  const size_t filtered_end = n >= 4 ? n - 3 : 0;
  uint32_t s = state->node;
  size_t i = from;
  // One past the last position that may start an occurrence. Positions before `from` were
  // judged in an earlier call, so they all count as possible starts.
  size_t hit_end = from;
  while (i < n) {
    if (s == 0) {
      // No live partial match: only a filter hit can start one. Nearly all bytes pass through
      // the first loop, which reads only the first-stage bitmap.
      for (;;) {
        while (i < filtered_end && !coarse_.Test(Load32(p + i) & filter_mask_)) ++i;
        if (i >= filtered_end || fine_.Test(Load32(p + i) & filter_mask_)) break;
        ++i;
      }
      if (i == n) break;
    }
    if (i >= filtered_end || MayStartAt(p + i)) hit_end = i + 1;
    s = Step(s, p[i]);
    ++i;
    const Node& node = nodes_[s];
    if (node.out_length != 0) {
      state->node = s;
      *match_length = node.out_length;
      return i;
    }
    // The live partial match spans [i - depth, i). If no position in it passed the filter, none
    // of them starts an occurrence, and the automaton can drop back to the root (and to the
    // fast loop) without missing anything.
    if (hit_end + node.depth <= i) s = 0;
  }
  state->node = s;
  return n;
}

bool SecretMatcher::ContainsAny(std::string_view text) const {
  State state;
  size_t length = 0;
  Scan(&state, text, 0, &length);
  return length != 0;
}

}  // namespace stagehost::log
