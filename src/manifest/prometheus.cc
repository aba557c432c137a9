// Reading `analysis.prometheus:`: where the Prometheus server is and what to ask it.
//
// Everything that can be known before a deployment is checked here — the address, each
// query's name, size and placeholders, its limits — so that a typo is refused at `apply`
// with its field and line rather than failing a canary's analysis half-way. Whether the
// PromQL itself is valid only the server can say: it does when the analysis runs.
#include <algorithm>

#include "manifest/sections.h"

namespace lastgood::manifest_internal {
namespace {

constexpr char kPrometheusAddressHelp[] =
    "write the address of a Prometheus server, like http://127.0.0.1:9090 (or https://, "
    "verified with the system's CAs)";
constexpr const char* kQueryPlaceholders[] = {"canary", "stable", "app", "slot"};
constexpr size_t kMaxQueryNameBytes = 64;

bool IsQueryName(const std::string& name) {
  return !name.empty() && name.size() <= kMaxQueryNameBytes &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

// Every {{name}} of the query is one of the placeholders.
Status CheckQueryPlaceholders(const std::string& query, const Field& f) {
  for (size_t open = query.find("{{"); open != std::string::npos;
       open = query.find("{{", open + 2)) {
    size_t close = query.find("}}", open + 2);
    if (close == std::string::npos) break;
    std::string name = query.substr(open + 2, close - open - 2);
    if (std::find(std::begin(kQueryPlaceholders), std::end(kQueryPlaceholders), name) !=
        std::end(kQueryPlaceholders)) {
      continue;
    }
    return Error::InvalidInput(
        "'{{" + name +
            "}}' is not a placeholder; a query may use {{canary}} (the version under analysis), "
            "{{stable}} (the version before it), {{app}} and {{slot}}",
        f.path, f.line);
  }
  return Status();
}

Result<PrometheusQuery> ReadQuery(const FieldReader& r, const Field& f) {
  PrometheusQuery q;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"name", "query", "min", "max"}));
  auto name = fields.Get("name");
  auto query = fields.Get("query");
  if (!name || !query) {
    return Error::InvalidInput(
        std::string("a query needs ") + (name ? "" : "a name") + (name || query ? "" : " and ") +
            (query ? "" : "its PromQL") +
            ", like { name: error-rate, query: 'sum(rate(...))', max: 0.01 }",
        f.path, f.key_line);
  }
  LG_MANIFEST_ASSIGN(q.name, r.NonEmptyString(*name));
  if (!IsQueryName(q.name)) {
    return Error::InvalidInput(
        "expected a name of letters, digits, '-' and '_' (at most 64), got '" + q.name + "'",
        name->path, name->line);
  }
  LG_MANIFEST_ASSIGN(q.query, r.NonEmptyString(*query));
  if (q.query.size() > kMaxPrometheusQueryBytes) {
    return Error::InvalidInput("the query is " + std::to_string(q.query.size()) +
                                   " bytes; the limit is " +
                                   std::to_string(kMaxPrometheusQueryBytes),
                               query->path, query->line);
  }
  if (Status s = CheckQueryPlaceholders(q.query, *query); !s.ok()) return s.error();
  if (auto v = fields.Get("min")) LG_MANIFEST_ASSIGN(q.min, r.Number(*v));
  if (auto v = fields.Get("max")) LG_MANIFEST_ASSIGN(q.max, r.Number(*v));
  if (!q.min && !q.max) {
    return Error::InvalidInput("query '" + q.name +
                                   "' has no limit; give max: (its value must stay at or below "
                                   "it), min:, or both",
                               f.path, f.key_line);
  }
  if (q.min && q.max && *q.min > *q.max) {
    auto v = fields.Get("min");
    return Error::InvalidInput("min is above max, so no value could pass", v->path, v->line);
  }
  return q;
}

}  // namespace

Result<PrometheusAnalysis> ReadPrometheus(const FieldReader& r, const Field& f) {
  PrometheusAnalysis p;
  MapFields fields;
  LG_MANIFEST_ASSIGN(fields, MapFields::Open(f, {"address", "queries"}));
  auto address = fields.Get("address");
  if (!address) {
    return Error::InvalidInput(
        std::string("prometheus needs an address; ") + kPrometheusAddressHelp, f.path, f.key_line);
  }
  LG_MANIFEST_ASSIGN(p.address, ReadHttpUrl(r, *address, kPrometheusAddressHelp));
  if (p.address.find('?') != std::string::npos) {
    return Error::InvalidInput("'" + p.address + "' has a ?query; " + kPrometheusAddressHelp,
                               address->path, address->line);
  }
  auto queries = fields.Get("queries");
  if (!queries || !queries->node.IsSequence() || queries->node.size() == 0 ||
      queries->node.size() > static_cast<size_t>(kMaxPrometheusQueries)) {
    const Field& where = queries ? *queries : f;
    return Error::InvalidInput(
        "expected queries: a list of 1 to 10 queries, like [{ name: error-rate, query: "
        "'sum(rate(...))', max: 0.01 }]",
        where.path, queries ? where.line : where.key_line);
  }
  for (size_t i = 0; i < queries->node.size(); ++i) {
    Field item = queries->Item(i, queries->node[i]);
    PrometheusQuery q;
    LG_MANIFEST_ASSIGN(q, ReadQuery(r, item));
    for (const auto& other : p.queries) {
      if (other.name == q.name) {
        return Error::InvalidInput("two queries are named '" + q.name +
                                       "'; the name tells them apart in the step's detail",
                                   item.path, item.key_line);
      }
    }
    p.queries.push_back(std::move(q));
  }
  return p;
}

}  // namespace lastgood::manifest_internal
