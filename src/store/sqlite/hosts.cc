// SqliteStore: the fleet's hosts (issue 14). Labels are kept as a JSON object.
#include <nlohmann/json.hpp>

#include "store/sqlite/sqlite_store.h"

namespace lastgood::sqlite {

namespace {

constexpr const char* kHostColumns =
    "name, ssh, labels, node_home, node_build, added_at, last_seen";

HostRecord ReadHost(const Statement& s) {
  HostRecord h{s.Text(0), s.Text(1), {}, s.Text(3), s.Text(4), s.Int(5), s.Int(6)};
  auto labels = nlohmann::json::parse(s.Text(2), nullptr, false);
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items())
      if (v.is_string()) h.labels[k] = v.get<std::string>();
  }
  return h;
}

}  // namespace

Status SqliteStore::AddHost(const HostRecord& h) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  nlohmann::json labels(h.labels);
  LG_RETURN_IF_ERROR(db_.Run(std::string("INSERT INTO hosts (") + kHostColumns +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                             h.name, h.ssh, labels.dump(), h.nodeHome, h.nodeBuild, h.addedAt,
                             h.lastSeen));
  if (db_.Changes() == 0)
    return Error::Conflict("a host named " + h.name + " exists; remove it first");
  return tx->Commit();
}

Result<std::vector<HostRecord>> SqliteStore::ListHosts() {
  std::lock_guard lock(mu_);
  auto s = db_.Prepare(std::string("SELECT ") + kHostColumns + " FROM hosts ORDER BY name");
  if (!s.ok()) return s.error();
  std::vector<HostRecord> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) return row.error();
    if (!*row) return out;
    out.push_back(ReadHost(*s));
  }
}

Status SqliteStore::RemoveHost(const std::string& name) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(db_.Run("DELETE FROM hosts WHERE name = ?", name));
  if (db_.Changes() == 0) return Error::NotFound("no host named " + name);
  return tx->Commit();
}

Status SqliteStore::TouchHost(const std::string& name, int64_t last_seen,
                              const std::string& node_build) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::Begin(db_, Transaction::kWrite);
  if (!tx.ok()) return tx.error();
  LG_RETURN_IF_ERROR(db_.Run("UPDATE hosts SET last_seen = ?, node_build = ? WHERE name = ?",
                             last_seen, node_build, name));
  if (db_.Changes() == 0) return Error::NotFound("no host named " + name);
  return tx->Commit();
}

}  // namespace lastgood::sqlite
