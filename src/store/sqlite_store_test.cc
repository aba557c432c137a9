#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "history/figures.h"
#include "history/reasons.h"
#include "history/rules.h"
#include "store/retention.h"
#include "store/sqlite/schema.h"
#include "store/store.h"

namespace lastgood {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "lastgood-store-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `sql` on the file directly, as another program would; returns column `column` of
// every row, one line each.
std::string Sql(const std::string& path, const std::string& sql, int column = 0) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  struct Rows {
    int column;
    std::string text;
  } out{column, ""};
  sqlite3_exec(
      db, sql.c_str(),
      [](void* rows, int, char** values, char**) {
        auto* out = static_cast<Rows*>(rows);
        if (!out->text.empty()) out->text += "\n";
        const char* value = values[out->column];
        out->text += value != nullptr ? value : "NULL";
        return 0;
      },
      &out, nullptr);
  sqlite3_close(db);
  return out.text;
}

std::unique_ptr<Store> Open(const std::string& path) {
  auto store = OpenSqliteStore(path);
  EXPECT_TRUE(store.ok()) << store.error().message;
  return store.ok() ? std::move(*store) : nullptr;
}

Version V(const std::string& app, const std::string& manifest = "app: web\n") {
  Version v;
  v.app = app;
  v.manifest = manifest;
  v.digest = "sha256:aa";
  v.contentHash = "sha256:bb";
  v.params = R"({"label":"v1"})";
  v.createdAt = 1700000000000;
  return v;
}

Deployment D(const std::string& app, int version, DeploymentState state = DeploymentState::kRunning,
             const std::string& name = "") {
  Deployment d;
  d.app = app;
  d.name = name;
  d.version = version;
  d.strategy = "rolling";
  d.actor = "local:test";
  d.state = state;
  d.startedAt = 1700000000100;
  return d;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("store.db");
    store_ = Open(path_);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->CreateApp("web", 1).ok());
    ASSERT_TRUE(store_->CreateApp("api", 2).ok());
  }
  TempDir dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, ANewStoreIsMigratedToTheCurrentSchemaInWalMode) {
  EXPECT_EQ(Sql(path_, "PRAGMA user_version"), std::to_string(sqlite::CurrentSchemaVersion()));
  EXPECT_EQ(Sql(path_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(Sql(path_, "PRAGMA application_id"), std::to_string(sqlite::kApplicationId));
}

TEST_F(SqliteStoreTest, CreatingAnAppTwiceKeepsOneRecord) {
  ASSERT_TRUE(store_->CreateApp("web", 99).ok());
  auto apps = store_->ListApps();
  ASSERT_TRUE(apps.ok());
  ASSERT_EQ(apps->size(), 2u);
  EXPECT_EQ((*apps)[0].name, "api");
  EXPECT_EQ((*apps)[1].name, "web");
  EXPECT_EQ((*apps)[1].createdAt, 1);
}

TEST_F(SqliteStoreTest, VersionsAreNumberedOneTwoThreePerAppIndependently) {
  EXPECT_EQ(*store_->AddVersion(V("web")), 1);
  EXPECT_EQ(*store_->AddVersion(V("web")), 2);
  EXPECT_EQ(*store_->AddVersion(V("api")), 1);
  Version ignored = V("web");
  ignored.number = 42;
  EXPECT_EQ(*store_->AddVersion(ignored), 3);
  EXPECT_EQ(*store_->AddVersion(V("api")), 2);
}

TEST_F(SqliteStoreTest, AVersionRoundTripsWithEveryField) {
  ASSERT_TRUE(store_->AddVersion(V("web")).ok());
  Version v = V("web", "app: web\nreplicas: 2\n");
  v.digest = "";
  v.promotedFrom = 1;
  v.verdict = Verdict::kGood;
  ASSERT_EQ(*store_->AddVersion(v), 2);
  auto got = store_->GetVersion("web", 2);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->app, "web");
  EXPECT_EQ(got->number, 2);
  EXPECT_EQ(got->manifest, v.manifest);
  EXPECT_EQ(got->digest, "");
  EXPECT_EQ(got->contentHash, v.contentHash);
  EXPECT_EQ(got->params, v.params);
  EXPECT_EQ(got->createdAt, v.createdAt);
  EXPECT_EQ(got->promotedFrom, 1);
  EXPECT_EQ(got->verdict, Verdict::kGood);
  auto all = store_->ListVersions("web");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].number, 1);
  EXPECT_EQ((*all)[0].promotedFrom, std::nullopt);
  EXPECT_EQ((*all)[0].verdict, Verdict::kUntested);
}

TEST_F(SqliteStoreTest, SetVerdictChangesOnlyThatVersion) {
  ASSERT_TRUE(store_->AddVersion(V("web")).ok());
  ASSERT_TRUE(store_->AddVersion(V("web")).ok());
  ASSERT_TRUE(store_->SetVerdict("web", 2, Verdict::kBad).ok());
  EXPECT_EQ(store_->GetVersion("web", 1)->verdict, Verdict::kUntested);
  EXPECT_EQ(store_->GetVersion("web", 2)->verdict, Verdict::kBad);
  EXPECT_EQ(store_->SetVerdict("web", 3, Verdict::kGood).error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, UnknownAppsVersionsAndDeploymentsAreNotFound) {
  EXPECT_EQ(store_->AddVersion(V("nope")).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->ListVersions("nope").error().message, "no app named nope");
  EXPECT_EQ(store_->GetVersion("web", 1).error().message, "version 1 of web does not exist");
  EXPECT_EQ(store_->GetDeployment("web", "x").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->ListDeployments("nope", 10).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->CreateDeployment(D("nope", 1)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->SetIntent("web", "x", {IntentKind::kCancel, ""}).error().code,
            ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, ADeploymentRoundTripsWithItsOperations) {
  Deployment d = D("web", 3, DeploymentState::kRunning, "fix-login");
  d.slot = "staging";
  d.kind = DeploymentKind::kRollback;
  d.trigger = Trigger::kAuto;
  d.reason = "automatic rollback after deployment deploy-4-9";
  d.fromVersion = 4;
  d.rollbackOnError = RollbackOnError::LastSuccessful();
  d.cursor = 1;
  for (int i = 0; i < 3; ++i) {
    Operation op;
    op.index = i;
    op.step = "step " + std::to_string(i);
    op.spec = R"({"i":)" + std::to_string(i) + "}";
    op.state = i == 0 ? OperationState::kSucceeded : OperationState::kPending;
    op.startedAt = 10 + i;
    op.finishedAt = 20 + i;
    op.detail = "took 1ms";
    d.operations.push_back(op);
  }
  auto created = store_->CreateDeployment(d);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_GT(created->id, 0);
  auto got = store_->GetDeployment("web", "fix-login");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->id, created->id);
  EXPECT_EQ(got->version, 3);
  EXPECT_EQ(got->slot, "staging");
  EXPECT_EQ(got->kind, DeploymentKind::kRollback);
  EXPECT_EQ(got->strategy, "rolling");
  EXPECT_EQ(got->trigger, Trigger::kAuto);
  EXPECT_EQ(got->actor, "local:test");
  EXPECT_EQ(got->state, DeploymentState::kRunning);
  EXPECT_EQ(got->reason, d.reason);
  EXPECT_EQ(got->startedAt, d.startedAt);
  EXPECT_EQ(got->finishedAt, 0);
  EXPECT_EQ(got->fromVersion, 4);
  EXPECT_EQ(got->rollbackOnError, RollbackOnError::LastSuccessful());
  EXPECT_EQ(got->cursor, 1);
  ASSERT_EQ(got->operations.size(), 3u);
  EXPECT_EQ(got->operations[2].index, 2);
  EXPECT_EQ(got->operations[2].step, "step 2");
  EXPECT_EQ(got->operations[2].spec, R"({"i":2})");
  EXPECT_EQ(got->operations[0].state, OperationState::kSucceeded);
  EXPECT_EQ(got->operations[2].startedAt, 12);
  EXPECT_EQ(got->operations[2].finishedAt, 22);
  EXPECT_EQ(got->operations[2].detail, "took 1ms");
}

TEST_F(SqliteStoreTest, AnUpdateRecordsStateReasonCursorAndOperations) {
  Deployment d = D("web", 1);
  d.operations = {Operation{0, "start", "{}", OperationState::kPending, 0, 0, ""},
                  Operation{1, "wait", "{}", OperationState::kPending, 0, 0, ""}};
  auto created = store_->CreateDeployment(d);
  ASSERT_TRUE(created.ok());
  Deployment u = *created;
  u.operations = {Operation{1, "wait", "{}", OperationState::kFailed, 5, 6, "probe failed"}};
  u.state = DeploymentState::kFailed;
  u.reason = kReasonProgressDeadline;
  u.finishedAt = 7;
  u.cursor = 1;
  ASSERT_TRUE(store_->UpdateDeployment(u).ok());
  auto got = store_->GetDeployment("web", created->name);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, DeploymentState::kFailed);
  EXPECT_EQ(got->reason, kReasonProgressDeadline);
  EXPECT_EQ(got->finishedAt, 7);
  EXPECT_EQ(got->cursor, 1);
  ASSERT_EQ(got->operations.size(), 2u);  // operations not given are kept
  EXPECT_EQ(got->operations[0].step, "start");
  EXPECT_EQ(got->operations[1].state, OperationState::kFailed);
  EXPECT_EQ(got->operations[1].detail, "probe failed");
}

TEST_F(SqliteStoreTest, AnUpdateWithInstancesPutsThemOnlyIfTheRecordCouldChange) {
  auto created = store_->CreateDeployment(D("web", 1));
  ASSERT_TRUE(created.ok());
  Deployment u = *created;
  u.cursor = 1;
  InstanceRecord r{"web-production-1-a1",
                   "web",
                   "production",
                   1,
                   4242,
                   1,
                   39001,
                   InstanceState::kReady,
                   5,
                   0,
                   "",
                   "h1"};
  ASSERT_TRUE(store_->UpdateDeploymentWith(u, {r}).ok());
  EXPECT_EQ(store_->GetDeployment("web", created->name)->cursor, 1);
  ASSERT_EQ(store_->ListInstances("web")->size(), 1u);
  EXPECT_EQ(store_->ListInstances("web")->front().host, "h1");
  // An ended record refuses the update, and the instance it came with is not put either.
  u.state = DeploymentState::kSucceeded;
  ASSERT_TRUE(store_->UpdateDeployment(u).ok());
  r.state = InstanceState::kWarm;
  auto refused = store_->UpdateDeploymentWith(u, {r});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->ListInstances("web")->front().state, InstanceState::kReady);
}

TEST_F(SqliteStoreTest, AnEndedDeploymentsRecordCannotChange) {
  auto created = store_->CreateDeployment(D("web", 1));
  ASSERT_TRUE(created.ok());
  Deployment done = *created;
  done.state = DeploymentState::kSucceeded;
  ASSERT_TRUE(store_->UpdateDeployment(done).ok());
  done.state = DeploymentState::kFailed;
  auto refused = store_->UpdateDeployment(done);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->GetDeployment("web", done.name)->state, DeploymentState::kSucceeded);
}

TEST_F(SqliteStoreTest, ASecondRunningDeploymentOfAnAppIsAConflictThatNamesTheFirst) {
  auto first = store_->CreateDeployment(D("web", 1));
  ASSERT_TRUE(first.ok());
  auto second = store_->CreateDeployment(D("web", 2));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  EXPECT_NE(second.error().message.find(first->name), std::string::npos) << second.error().message;
  EXPECT_TRUE(store_->CreateDeployment(D("api", 1)).ok()) << "another app is not affected";
  EXPECT_EQ(store_->ListDeployments("web", 10)->size(), 1u) << "nothing was written";

  Deployment ended = *first;
  ended.state = DeploymentState::kSucceeded;
  ASSERT_TRUE(store_->UpdateDeployment(ended).ok());
  EXPECT_TRUE(store_->CreateDeployment(D("web", 2)).ok());
}

TEST_F(SqliteStoreTest, TheRunningRuleHoldsAcrossTwoConnectionsToOneFile) {
  auto other = Open(path_);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(store_->CreateDeployment(D("web", 1)).ok());
  auto second = other->CreateDeployment(D("web", 2));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
}

TEST_F(SqliteStoreTest, OfManyThreadsStartingADeploymentAtOnceExactlyOneSucceeds) {
  std::atomic<int> created = 0, conflicts = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto d = store_->CreateDeployment(D("web", i + 1));
      if (d.ok()) ++created;
      if (!d.ok() && d.error().code == ErrorCode::kConflict) ++conflicts;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, 7);
}

TEST_F(SqliteStoreTest, ADuplicateDeploymentNameIsAConflict) {
  ASSERT_TRUE(store_->CreateDeployment(D("web", 1, DeploymentState::kSucceeded, "v1")).ok());
  auto again = store_->CreateDeployment(D("web", 2, DeploymentState::kRunning, "v1"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_NE(again.error().message.find(kReasonDeploymentNameTaken), std::string::npos);
  EXPECT_TRUE(store_->CreateDeployment(D("api", 1, DeploymentState::kRunning, "v1")).ok())
      << "names are unique per app only";
}

TEST_F(SqliteStoreTest, AnEmptyNameIsGeneratedFromKindVersionAndId) {
  auto created = store_->CreateDeployment(D("web", 3, DeploymentState::kSucceeded));
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->name, "deploy-3-" + std::to_string(created->id));
  EXPECT_TRUE(store_->GetDeployment("web", created->name).ok());
}

TEST_F(SqliteStoreTest, AGeneratedNameAvoidsOneAUserChose) {
  auto taken = store_->CreateDeployment(D("web", 1, DeploymentState::kSucceeded, "deploy-1-2"));
  ASSERT_TRUE(taken.ok());
  ASSERT_EQ(taken->id, 1);
  auto generated = store_->CreateDeployment(D("web", 1, DeploymentState::kSucceeded));
  ASSERT_TRUE(generated.ok()) << generated.error().message;
  EXPECT_EQ(generated->id, 2);
  EXPECT_EQ(generated->name, "deploy-1-2-2");
}

TEST_F(SqliteStoreTest, HistoryIsNewestFirstAndLimited) {
  for (int v = 1; v <= 5; ++v) {
    ASSERT_TRUE(store_->CreateDeployment(D("web", v, DeploymentState::kSucceeded)).ok());
    ASSERT_TRUE(store_->CreateDeployment(D("api", v, DeploymentState::kSucceeded)).ok());
  }
  auto last3 = store_->ListDeployments("web", 3);
  ASSERT_TRUE(last3.ok());
  ASSERT_EQ(last3->size(), 3u);
  EXPECT_EQ((*last3)[0].version, 5);
  EXPECT_EQ((*last3)[2].version, 3);
  EXPECT_TRUE((*last3)[0].operations.empty());
  EXPECT_EQ(store_->ListDeployments("web", 0)->size(), 5u) << "0: no limit";
}

TEST_F(SqliteStoreTest, FinishedDeploymentsAreTheSlotsVerdictGivingOnesNewestFirst) {
  using S = DeploymentState;
  for (S s : {S::kSucceeded, S::kFailed, S::kCanceled, S::kRolledBack}) {
    ASSERT_TRUE(store_->CreateDeployment(D("web", 1, s)).ok());
  }
  Deployment staging = D("web", 2, S::kSucceeded);
  staging.slot = "staging";
  ASSERT_TRUE(store_->CreateDeployment(staging).ok());
  ASSERT_TRUE(store_->CreateDeployment(D("web", 3)).ok());  // Running
  auto finished = store_->FinishedDeployments("web", kProductionSlot, 10);
  ASSERT_TRUE(finished.ok());
  ASSERT_EQ(finished->size(), 3u);
  EXPECT_EQ((*finished)[0].state, S::kRolledBack);
  EXPECT_EQ((*finished)[1].state, S::kFailed);
  EXPECT_EQ((*finished)[2].state, S::kSucceeded);
  EXPECT_EQ(store_->FinishedDeployments("web", kProductionSlot, 1)->size(), 1u);
}

std::string SqlError(const std::string& path, const std::string& sql);

// Last good, the one rule (Store::LastGood). Each deployment is recorded as the executor
// records it: created Running, then ended with the verdict its end gives its version.
class LastGoodTest : public SqliteStoreTest {
 protected:
  void Ended(int version, DeploymentState state, const std::string& slot = kProductionSlot,
             DeploymentKind kind = DeploymentKind::kDeploy) {
    while (static_cast<int>(store_->ListVersions("web")->size()) < version) {
      ASSERT_TRUE(store_->AddVersion(V("web")).ok());
    }
    Deployment d = D("web", version);
    d.slot = slot;
    d.kind = kind;
    auto created = store_->CreateDeployment(d);
    ASSERT_TRUE(created.ok()) << created.error().message;
    created->state = state;
    ASSERT_TRUE(store_->EndDeployment(*created, VerdictAfter(*created), std::nullopt).ok());
  }
  std::optional<int> LastGood(int leaving, const std::string& slot = kProductionSlot) {
    auto got = store_->LastGood("web", slot, leaving);
    EXPECT_TRUE(got.ok()) << got.error().message;
    return got.ok() ? *got : std::nullopt;
  }
};

TEST_F(LastGoodTest, IsTheMostRecentSucceededVersionOtherThanTheOneBeingLeft) {
  Ended(1, DeploymentState::kSucceeded);
  Ended(2, DeploymentState::kSucceeded);
  Ended(3, DeploymentState::kSucceeded);
  EXPECT_EQ(LastGood(3), 2);
}

TEST_F(LastGoodTest, IsNeverMerelyThePreviousVersionWhenThatOneFailed) {
  Ended(1, DeploymentState::kSucceeded);
  Ended(2, DeploymentState::kFailed);
  Ended(3, DeploymentState::kSucceeded);
  EXPECT_EQ(LastGood(3), 1);
}

TEST_F(LastGoodTest, CountsOnlyTheGivenSlot) {
  Ended(1, DeploymentState::kSucceeded);
  Ended(2, DeploymentState::kSucceeded, "staging");
  Ended(3, DeploymentState::kSucceeded);
  EXPECT_EQ(LastGood(3), 1);
  EXPECT_EQ(LastGood(0, "staging"), 2);
}

TEST_F(LastGoodTest, SkipsAVersionThatALaterDeploymentMadeBadInAnySlot) {
  Ended(1, DeploymentState::kSucceeded);
  Ended(2, DeploymentState::kSucceeded);
  Ended(2, DeploymentState::kFailed, "staging");
  Ended(3, DeploymentState::kSucceeded);
  EXPECT_EQ(LastGood(3), 1);
}

TEST_F(LastGoodTest, IsNoneWhenOnlyTheVersionBeingLeftHasSucceeded) {
  Ended(1, DeploymentState::kSucceeded);
  Ended(2, DeploymentState::kFailed);
  EXPECT_EQ(LastGood(1), std::nullopt);
  EXPECT_EQ(LastGood(0, "staging"), std::nullopt);
}

TEST_F(LastGoodTest, CountsASucceededRollbackAsAGoodDeploymentOfItsVersion) {
  Ended(1, DeploymentState::kSucceeded);
  Ended(2, DeploymentState::kSucceeded);
  Ended(3, DeploymentState::kRolledBack);
  Ended(2, DeploymentState::kSucceeded, kProductionSlot, DeploymentKind::kRollback);
  EXPECT_EQ(LastGood(3), 2);
}

TEST_F(LastGoodTest, Issue12IsTheSameAnswerBehindAHistoryOfTwentyThousandFailures) {
  // A manual rollback once searched 10,000 records and an automatic one 1,000: behind more
  // failures than that, one found v1 and the other nothing.
  Ended(1, DeploymentState::kSucceeded);
  Ended(2, DeploymentState::kFailed);
  ASSERT_EQ(SqlError(path_,
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < "
                     "20000) INSERT INTO deployments (app, name, version, slot, kind, strategy, "
                     "\"trigger\", actor, state, reason, started_at, finished_at, from_version, "
                     "rollback_on_error, cursor) SELECT 'web', 'failed-' || i, 2, 'production', "
                     "'deploy', 'rolling', 'user', 'test', 'Failed', '', i, i, 1, "
                     "'lastSuccessful', 0 FROM n"),
            "");
  EXPECT_EQ(LastGood(2), 1);
}

TEST_F(SqliteStoreTest, RunningDeploymentsOfEveryAppComeWithOperations) {
  Deployment d = D("web", 1);
  d.operations = {Operation{0, "start", "{}", OperationState::kRunning, 1, 0, ""}};
  ASSERT_TRUE(store_->CreateDeployment(d).ok());
  ASSERT_TRUE(store_->CreateDeployment(D("api", 1)).ok());
  ASSERT_TRUE(store_->CreateDeployment(D("api", 1, DeploymentState::kFailed)).ok());
  auto running = store_->RunningDeployments();
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->size(), 2u);
  EXPECT_EQ((*running)[0].app, "web");
  ASSERT_EQ((*running)[0].operations.size(), 1u);
  EXPECT_EQ((*running)[0].operations[0].state, OperationState::kRunning);
}

SlotRecord Slot(const std::string& app, const std::string& slot, int version, int weight) {
  SlotRecord r;
  r.app = app;
  r.slot = slot;
  r.version = version;
  r.weight = weight;
  return r;
}

TEST_F(SqliteStoreTest, SetSlotChangesTheVersionButNeverTheTrafficShare) {
  ASSERT_TRUE(store_->SetSlot(Slot("web", "production", 1, 100)).ok());
  ASSERT_TRUE(store_->SetSlot(Slot("web", "staging", 2, 0)).ok());
  ASSERT_TRUE(store_->SetSlotWeight("web", "staging", 10).ok());
  SlotRecord again = Slot("web", "staging", 3, 0);
  again.stickyEnv = R"([{"name":"DB","value":"staging-db"}])";
  ASSERT_TRUE(store_->SetSlot(again).ok());
  auto slots = store_->ListSlots("web");
  ASSERT_TRUE(slots.ok());
  ASSERT_EQ(slots->size(), 2u);
  EXPECT_EQ((*slots)[0].slot, "production");
  EXPECT_EQ((*slots)[0].version, 1);
  EXPECT_EQ((*slots)[1].slot, "staging");
  EXPECT_EQ((*slots)[1].version, 3);
  EXPECT_EQ((*slots)[1].weight, 10);
  EXPECT_EQ((*slots)[1].stickyEnv, again.stickyEnv);
  EXPECT_TRUE(store_->ListSlots("api")->empty());
  EXPECT_EQ(store_->SetSlotWeight("web", "canary", 5).error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, SwapExchangesVersionsAndInstancesButNotStickySettingsOrShares) {
  SlotRecord prod = Slot("web", "production", 1, 100);
  prod.stickyEnv = R"([{"name":"DB","value":"prod"}])";
  SlotRecord staging = Slot("web", "staging", 2, 0);
  staging.stickyEnv = R"([{"name":"DB","value":"stage"}])";
  ASSERT_TRUE(store_->SetSlot(prod).ok());
  ASSERT_TRUE(store_->SetSlot(staging).ok());
  ASSERT_TRUE(store_->SetSwapPending("web", "production", "staging").ok());
  ASSERT_TRUE(store_->SetCanary("web", "production", 2, 10).ok());
  InstanceRecord a;
  a.id = "a";
  a.app = "web";
  a.slot = "production";
  a.version = 1;
  a.state = InstanceState::kReady;
  InstanceRecord b = a;
  b.id = "b";
  b.slot = "staging";
  b.version = 2;
  b.settings = "production";
  ASSERT_TRUE(store_->PutInstance(a).ok());
  ASSERT_TRUE(store_->PutInstance(b).ok());

  ASSERT_TRUE(store_->SwapSlots("web", "staging", "production", {}).ok());

  auto slots = store_->ListSlots("web");
  ASSERT_TRUE(slots.ok());
  EXPECT_EQ((*slots)[0].version, 2);
  EXPECT_EQ((*slots)[0].stickyEnv, prod.stickyEnv);
  EXPECT_EQ((*slots)[0].swapPending, "");
  EXPECT_EQ((*slots)[0].canaryVersion, 0);
  EXPECT_EQ((*slots)[1].version, 1);
  EXPECT_EQ((*slots)[1].stickyEnv, staging.stickyEnv);
  auto instances = store_->ListInstances("web");
  ASSERT_TRUE(instances.ok());
  for (const auto& i : *instances) {
    EXPECT_EQ(i.slot, i.id == "a" ? "staging" : "production");
    if (i.id == "b") {
      EXPECT_EQ(i.settings, "production");
    }
  }
  EXPECT_EQ(store_->SwapSlots("web", "preview", "production", {}).error().code,
            ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, ASwapLeavesTheInstancesOfKeptHostsInTheirSlots) {
  ASSERT_TRUE(store_->SetSlot(Slot("web", "production", 1, 100)).ok());
  ASSERT_TRUE(store_->SetSlot(Slot("web", "staging", 2, 0)).ok());
  // h1 and h2 each run v1 in production and v2 in staging.
  for (const char* host : {"h1", "h2"}) {
    for (int v : {1, 2}) {
      InstanceRecord i;
      i.id = std::string(host) + "-" + std::to_string(v);
      i.app = "web";
      i.slot = v == 1 ? "production" : "staging";
      i.version = v;
      i.state = InstanceState::kReady;
      i.host = host;
      ASSERT_TRUE(store_->PutInstance(i).ok());
    }
  }
  ASSERT_TRUE(store_->SwapSlots("web", "staging", "production", {"h2"}).ok());
  auto slots = store_->ListSlots("web");
  ASSERT_TRUE(slots.ok());
  EXPECT_EQ((*slots)[0].version, 2);
  auto instances = store_->ListInstances("web");
  ASSERT_TRUE(instances.ok());
  ASSERT_EQ(instances->size(), 4u);
  for (const auto& i : *instances) {
    const bool moved = i.host == "h1";
    const bool was_production = i.version == 1;
    EXPECT_EQ(i.slot, (was_production != moved) ? "production" : "staging") << i.id;
  }
}

TEST_F(SqliteStoreTest, InstancesRoundTripAndAreReplacedAndDeletedById) {
  InstanceRecord r{"web-production-1-a1",
                   "web",
                   "production",
                   1,
                   4242,
                   18446744073709551000ull,
                   39001,
                   InstanceState::kStarting,
                   5,
                   0,
                   ""};
  ASSERT_TRUE(store_->PutInstance(r).ok());
  r.state = InstanceState::kWarm;
  r.warmUntil = 600005;
  ASSERT_TRUE(store_->PutInstance(r).ok());
  ASSERT_TRUE(store_
                  ->PutInstance({"api-production-1-b2", "api", "production", 1, 7, 1, 2,
                                 InstanceState::kReady, 6, 0, ""})
                  .ok());
  auto web = store_->ListInstances("web");
  ASSERT_TRUE(web.ok());
  ASSERT_EQ(web->size(), 1u);
  const InstanceRecord& got = (*web)[0];
  EXPECT_EQ(got.id, r.id);
  EXPECT_EQ(got.slot, "production");
  EXPECT_EQ(got.version, 1);
  EXPECT_EQ(got.pid, 4242);
  EXPECT_EQ(got.startTime, r.startTime);
  EXPECT_EQ(got.port, 39001);
  EXPECT_EQ(got.state, InstanceState::kWarm);
  EXPECT_EQ(got.createdAt, 5);
  EXPECT_EQ(got.warmUntil, 600005);
  EXPECT_EQ(store_->AllInstances()->size(), 2u);
  ASSERT_TRUE(store_->DeleteInstance(r.id).ok());
  ASSERT_TRUE(store_->DeleteInstance(r.id).ok()) << "deleting is idempotent";
  EXPECT_TRUE(store_->ListInstances("web")->empty());
}

TEST_F(SqliteStoreTest, AnIntentIsSetReadAndClearedPerDeployment) {
  auto d = store_->CreateDeployment(D("web", 1));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*store_->GetIntent("web", d->name), std::nullopt);
  ASSERT_TRUE(store_->SetIntent("web", d->name, {IntentKind::kPause, "alice"}).ok());
  ASSERT_TRUE(store_->SetIntent("web", d->name, {IntentKind::kAbort, "bob"}).ok());
  EXPECT_EQ(*store_->GetIntent("web", d->name), (Intent{IntentKind::kAbort, "bob"}));
  ASSERT_TRUE(store_->ClearIntent("web", d->name).ok());
  EXPECT_EQ(*store_->GetIntent("web", d->name), std::nullopt);
  ASSERT_TRUE(store_->ClearIntent("web", d->name).ok()) << "clearing is idempotent";
}

// SQL that turns a store of schema 10 back into what schema 7 wrote (the fleet hosts of
// instances and operations, the pruned figures and the folded, prunable audit undone), for
// tests that rewind a store to an older schema.
const std::string kUndoSchema10 =
    "ALTER TABLE instances DROP COLUMN host; ALTER TABLE operations DROP COLUMN host; ";
const std::string kUndoSchema9 = kUndoSchema10 + "DROP TABLE pruned_figures; ";
const std::string kUndoSchema8 =
    kUndoSchema9 +
    "DROP TRIGGER audit_pruned_no_update; DROP TRIGGER audit_pruned_no_delete; "
    "DROP TABLE audit_pruned; DROP INDEX audit_by_time; DROP TRIGGER audit_count_only_grows; "
    "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; "
    "ALTER TABLE audit DROP COLUMN count; ALTER TABLE audit DROP COLUMN last_at; "
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END; "
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END; ";

TEST_F(SqliteStoreTest, AnAbortStoredWithItsActorInTheTextIsMigratedToTheActorColumn) {
  auto d = store_->CreateDeployment(D("web", 1));
  ASSERT_TRUE(d.ok());
  store_.reset();
  // What schema 4 wrote for `lastgood abort` by alice (before schema 6 added hosts).
  ASSERT_EQ(SqlError(path_, kUndoSchema8 +
                                "DROP TABLE secrets; DROP TABLE hosts; DROP INDEX "
                                "deployments_succeeded; ALTER TABLE intents DROP COLUMN actor; "
                                "INSERT INTO intents (app, deployment, intent) VALUES ('web', '" +
                                d->name + "', 'abort:alice'); PRAGMA user_version = 4"),
            "");
  auto again = Open(path_);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*again->GetIntent("web", d->name), (Intent{IntentKind::kAbort, "alice"}));
}

TEST_F(SqliteStoreTest, AReopenedStoreKeepsEverything) {
  ASSERT_TRUE(store_->AddVersion(V("web")).ok());
  auto d = store_->CreateDeployment(D("web", 1));
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(store_->SetSlot(Slot("web", "production", 1, 100)).ok());
  ASSERT_TRUE(store_->SetIntent("web", d->name, {IntentKind::kCancel, "bob"}).ok());
  store_.reset();
  auto again = Open(path_);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->ListApps()->size(), 2u);
  EXPECT_EQ(again->GetVersion("web", 1)->manifest, "app: web\n");
  EXPECT_EQ(again->RunningDeployments()->size(), 1u);
  EXPECT_EQ(again->ListSlots("web")->size(), 1u);
  EXPECT_EQ(*again->GetIntent("web", d->name), (Intent{IntentKind::kCancel, "bob"}));
  EXPECT_EQ(*again->AddVersion(V("web")), 2);
  EXPECT_FALSE(again->CreateDeployment(D("web", 2)).ok()) << "still running after reopening";
}

TEST_F(SqliteStoreTest, HistoryAndTheRunningCheckAreIndexLookupsNotScans) {
  for (const char* where : {sqlite::kHistoryOfApp, sqlite::kRunningOfApp}) {
    std::string plan = Sql(path_,
                           std::string("EXPLAIN QUERY PLAN SELECT ") + sqlite::kDeploymentColumns +
                               " FROM deployments " + where,
                           3);  // the plan's "detail" column
    SCOPED_TRACE(plan);
    EXPECT_NE(plan.find("USING INDEX"), std::string::npos);
    EXPECT_EQ(plan.find("SCAN"), std::string::npos);
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos);
  }
}

// Tokens, audit and retention (issue 5).

// Runs `sql` on the file as another program would; returns SQLite's error message or "".
std::string SqlError(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  char* message = nullptr;
  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  std::string out = message != nullptr ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  return out;
}

TEST_F(SqliteStoreTest, ATokenIsStoredByHashFoundRevokedAndItsNameReusable) {
  ASSERT_TRUE(store_->CreateToken({"ci", "deployer", "h1", 10, 0, 0}).ok());
  auto taken = store_->CreateToken({"ci", "admin", "h2", 11, 0, 0});
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, ErrorCode::kConflict);
  auto found = store_->FindToken("h1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->name, "ci");
  EXPECT_EQ((*found)->role, "deployer");
  EXPECT_FALSE(store_->FindToken("h2")->has_value());
  ASSERT_TRUE(store_->TouchToken("ci", 20).ok());
  ASSERT_TRUE(store_->RevokeToken("ci", 30).ok());
  EXPECT_EQ(store_->RevokeToken("ci", 31).error().code, ErrorCode::kNotFound);
  auto listed = store_->ListTokens();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].lastUsedAt, 20);
  EXPECT_EQ((*listed)[0].revokedAt, 30);
  ASSERT_TRUE(store_->CreateToken({"ci", "viewer", "h3", 40, 0, 0}).ok());
  EXPECT_FALSE(store_->FindToken("h1")->has_value()) << "the revoked token is gone for good";
  EXPECT_EQ((*store_->FindToken("h3"))->revokedAt, 0);
}

TEST_F(SqliteStoreTest, ATokenKeepsItsExpiryAndAnExpiredOnesNameIsReusable) {
  ASSERT_TRUE(store_->CreateToken({"ci", "deployer", "h1", 10, 0, 0, 100}).ok());
  EXPECT_EQ((*store_->FindToken("h1"))->expiresAt, 100);
  // Before its expiry the name is taken; from then on it is free.
  EXPECT_EQ(store_->CreateToken({"ci", "admin", "h2", 99, 0, 0, 0}).error().code,
            ErrorCode::kConflict);
  ASSERT_TRUE(store_->CreateToken({"ci", "admin", "h3", 100, 0, 0, 0}).ok());
  EXPECT_FALSE(store_->FindToken("h1")->has_value());
  EXPECT_EQ((*store_->FindToken("h3"))->expiresAt, 0) << "the new token never expires";
}

TEST_F(SqliteStoreTest, TheAuditListsNewestFirstPerAppAndRefusesUpdateAndDelete) {
  ASSERT_TRUE(
      store_->AppendAudit({0, 1, "local:root", "unix", "POST /v1/apply", "web", 200, "deploy-1-1"})
          .ok());
  ASSERT_TRUE(store_
                  ->AppendAudit({0, 2, "token:ci", "127.0.0.1:9", "POST /v1/apps/api/rollback",
                                 "api", 403, "forbidden"})
                  .ok());
  ASSERT_TRUE(
      store_
          ->AppendAudit({0, 3, "anonymous", "127.0.0.1:9", "GET /v1/apps", "", 401, "unauthorized"})
          .ok());
  auto all = store_->ListAudit("", 0);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].actor, "anonymous");
  EXPECT_EQ((*all)[2].action, "POST /v1/apply");
  auto web = store_->ListAudit("web", 10);
  ASSERT_EQ(web->size(), 1u);
  EXPECT_EQ((*web)[0].status, 200);
  EXPECT_EQ(store_->ListAudit("", 2)->size(), 2u);

  EXPECT_NE(SqlError(path_, "UPDATE audit SET status = 200 WHERE status = 403").find("append-only"),
            std::string::npos);
  EXPECT_NE(SqlError(path_, "DELETE FROM audit").find("append-only"), std::string::npos);
  EXPECT_EQ(store_->ListAudit("", 0)->size(), 3u);
  EXPECT_EQ((*store_->ListAudit("api", 0))[0].status, 403);
}

TEST_F(SqliteStoreTest, AnAuditRowsCountOnlyGrowsAndNothingElseOfItChanges) {
  auto id = store_->AppendAudit({0, 1, "anonymous", "127.0.0.1:9", "GET /v1/x", "", 401, "no"});
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(store_->SetAuditCount(*id, 5, 7).ok());
  auto row = (*store_->ListAudit("", 0))[0];
  EXPECT_EQ(row.count, 5);
  EXPECT_EQ(row.lastAt, 7);
  EXPECT_EQ(store_->SetAuditCount(*id, 4, 8).error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(store_->SetAuditCount(*id + 100, 9, 9).error().code, ErrorCode::kNotFound);
  EXPECT_NE(SqlError(path_, "UPDATE audit SET count = 1").find("only grows"), std::string::npos);
  EXPECT_NE(SqlError(path_, "UPDATE audit SET message = 'x'").find("append-only"),
            std::string::npos);
}

TEST_F(SqliteStoreTest, AnAuditOfSchemaSevenIsMigratedKeepingItsRowsWithACountOfOne) {
  ASSERT_TRUE(
      store_->AppendAudit({0, 1, "local:root", "unix", "POST /v1/apply", "web", 200, "x"}).ok());
  store_.reset();
  ASSERT_EQ(SqlError(path_, kUndoSchema8 + "PRAGMA user_version = 7"), "");
  auto again = Open(path_);
  ASSERT_NE(again, nullptr);
  auto rows = *again->ListAudit("", 0);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 1);
  EXPECT_EQ(rows[0].message, "x");
  EXPECT_NE(SqlError(path_, "DELETE FROM audit").find("append-only"), std::string::npos);
}

TEST_F(SqliteStoreTest, PruningTheAuditDeletesOnlyOlderRowsAndRecordsItself) {
  for (int64_t at : {100, 200, 300}) {
    ASSERT_TRUE(
        store_->AppendAudit({0, at, "local:root", "unix", "POST /v1/apply", "web", 200, ""}).ok());
  }
  AuditEntry record{0, 1000, "lastgood", "controller", "prune audit", "", 200, "pruned"};
  EXPECT_EQ(*store_->PruneAudit(250, record), 2);
  auto rows = *store_->ListAudit("", 0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].message, "pruned: 2 rows");
  EXPECT_EQ(rows[1].at, 300);
  // Nothing older: nothing changes, not even a row saying so.
  EXPECT_EQ(*store_->PruneAudit(250, record), 0);
  EXPECT_EQ(store_->ListAudit("", 0)->size(), 2u);
  // Below the cutoff only: a young row cannot be deleted, nor the cutoff moved back.
  EXPECT_NE(SqlError(path_, "DELETE FROM audit WHERE at = 300").find("append-only"),
            std::string::npos);
  EXPECT_NE(SqlError(path_, "DELETE FROM audit_pruned").find("append-only"), std::string::npos);
}

TEST_F(SqliteStoreTest, AStoreOfSchemaOneIsMigratedKeepingItsHistory) {
  ASSERT_TRUE(store_->AddVersion(V("web")).ok());
  store_.reset();
  // Make the file what the previous lastgood wrote: schema 1, no tokens, no audit, no hosts.
  ASSERT_EQ(SqlError(path_,
                     "DROP TABLE secrets; DROP TABLE hosts; DROP TABLE tokens; DROP TABLE audit; "
                     "DROP TABLE audit_pruned; DROP TABLE pruned_figures; "
                     "ALTER TABLE instances DROP COLUMN host; ALTER TABLE operations DROP COLUMN host; "
                     "ALTER TABLE slots DROP COLUMN "
                     "sticky_env; ALTER TABLE slots DROP COLUMN canary_version; ALTER TABLE slots "
                     "DROP COLUMN canary_weight; ALTER TABLE slots DROP COLUMN swap_pending; ALTER "
                     "TABLE instances DROP COLUMN settings; ALTER TABLE intents DROP COLUMN actor; "
                     "DROP INDEX deployments_succeeded; "
                     "PRAGMA user_version = 1"),
            "");
  auto again = Open(path_);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(Sql(path_, "PRAGMA user_version"), std::to_string(sqlite::CurrentSchemaVersion()));
  EXPECT_EQ(again->GetVersion("web", 1)->manifest, "app: web\n");
  EXPECT_TRUE(
      again->AppendAudit({0, 1, "local:root", "unix", "POST /v1/apply", "web", 200, ""}).ok());
  EXPECT_NE(SqlError(path_, "DELETE FROM audit").find("append-only"), std::string::npos);
}

TEST_F(SqliteStoreTest, SecretsAreSetReplacedListedByNameAndRemovedWithoutAnApp) {
  // A secret is set before the first apply of its app: no app record is needed.
  ASSERT_TRUE(store_->PutSecret({"web", "db-password", "lgs1:a", 10, "local:root"}, 5).ok());
  ASSERT_TRUE(store_->PutSecret({"web", "api-key", "lgs1:b", 11, "token:ops"}, 5).ok());
  ASSERT_TRUE(store_->PutSecret({"other", "db-password", "lgs1:c", 12, "local:root"}, 5).ok());
  ASSERT_TRUE(store_->PutSecret({"web", "db-password", "lgs1:d", 20, "token:ops"}, 5).ok());

  auto web = store_->ListSecrets("web");
  ASSERT_TRUE(web.ok());
  ASSERT_EQ(web->size(), 2u);
  EXPECT_EQ((*web)[0].name, "api-key");
  EXPECT_EQ((*web)[1].name, "db-password");
  EXPECT_EQ((*web)[1].sealed, "lgs1:d");
  EXPECT_EQ((*web)[1].setAt, 20);
  EXPECT_EQ((*web)[1].setBy, "token:ops");
  EXPECT_EQ((*store_->GetSecret("other", "db-password"))->sealed, "lgs1:c");
  EXPECT_FALSE(store_->GetSecret("web", "nope")->has_value());
  EXPECT_EQ(store_->ListApps()->size(), 2u);  // web and api, made by SetUp; no "other"

  ASSERT_TRUE(store_->DeleteSecret("web", "api-key").ok());
  auto again = store_->DeleteSecret("web", "api-key");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->ListSecrets("web")->size(), 1u);
}

TEST_F(SqliteStoreTest, AnAppHoldsAtMostTheGivenNumberOfSecretsButMayReplaceOne) {
  ASSERT_TRUE(store_->PutSecret({"web", "a", "lgs1:a", 1, "x"}, 2).ok());
  ASSERT_TRUE(store_->PutSecret({"web", "b", "lgs1:b", 1, "x"}, 2).ok());
  auto third = store_->PutSecret({"web", "c", "lgs1:c", 1, "x"}, 2);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(store_->PutSecret({"web", "b", "lgs1:B", 2, "x"}, 2).ok());
  EXPECT_EQ(store_->ListSecrets("web")->size(), 2u);
}

TEST_F(SqliteStoreTest, PruningDeletesEndedRecordsWithOperationsButNeverARunningOne) {
  ASSERT_TRUE(store_->AddVersion(V("web")).ok());
  Deployment old = D("web", 1, DeploymentState::kRunning, "old");
  old.operations.push_back(Operation{0, "start", "{}", OperationState::kPending, 0, 0, ""});
  ASSERT_TRUE(store_->CreateDeployment(old).ok());
  old.state = DeploymentState::kSucceeded;
  ASSERT_TRUE(store_->UpdateDeployment(old).ok());
  ASSERT_TRUE(store_->CreateDeployment(D("web", 1, DeploymentState::kRunning, "now")).ok());

  auto refused = store_->PruneDeployments("web", {"old", "now"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(store_->GetDeployment("web", "old").ok()) << "all or nothing";

  auto pruned = store_->PruneDeployments("web", {"old", "never-was"});
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(*pruned, 1);
  EXPECT_EQ(store_->GetDeployment("web", "old").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Sql(path_, "SELECT count(*) FROM operations"), "0");
}

TEST_F(SqliteStoreTest, PruningKeepsWhatTheRecordsAddedToTheMetricsSummedBySeries) {
  ASSERT_TRUE(store_->AddVersion(V("web")).ok());
  for (const char* name : {"a", "b"}) {
    Deployment d = D("web", 1, DeploymentState::kRunning, name);
    d.startedAt = 1'000;
    d.operations.push_back(
        Operation{0, "start", R"({"op":"start","version":1})", OperationState::kPending, 0, 0, ""});
    ASSERT_TRUE(store_->CreateDeployment(d).ok());
    d.state = DeploymentState::kSucceeded;
    d.finishedAt = 3'500;
    d.operations[0].state = OperationState::kSucceeded;
    d.operations[0].startedAt = 1'000;
    d.operations[0].finishedAt = 1'200;
    ASSERT_TRUE(store_->UpdateDeployment(d).ok());
  }
  EXPECT_TRUE(store_->PrunedFigures()->empty());
  ASSERT_TRUE(store_->PruneDeployments("web", {"a"}).ok());
  ASSERT_TRUE(store_->PruneDeployments("web", {"b"}).ok());
  auto figures = store_->PrunedFigures();
  ASSERT_TRUE(figures.ok()) << figures.error().message;
  EXPECT_EQ((*figures)[FigureKey({kFigDeployments, "web", "deploy", "user", "Succeeded"})], 2);
  EXPECT_EQ((*figures)[FigureKey({kFigDeploymentSeconds, "web", "deploy", "Succeeded", kFigSum})],
            5);
  EXPECT_EQ((*figures)[FigureKey({kFigStepSeconds, "web", "start", "2"})], 2);  // (0.1, 0.5]
}

TEST_F(SqliteStoreTest, RetentionKeepsNewestRecordsTheRunningVersionAndTheLastGood) {
  for (int v = 1; v <= 12; ++v) {
    ASSERT_TRUE(store_->AddVersion(V("web")).ok());
    Deployment d = D("web", v, DeploymentState::kRunning, "deploy-" + std::to_string(v));
    ASSERT_TRUE(store_->CreateDeployment(d).ok());
    d.state = DeploymentState::kSucceeded;
    ASSERT_TRUE(store_->UpdateDeployment(d).ok());
  }
  SlotRecord production;
  production.app = "web";
  production.slot = "production";
  production.version = 3;  // rolled back to v3 long ago, say
  ASSERT_TRUE(store_->SetSlot(production).ok());

  auto pruned = ApplyRetention(*store_, "web", 10);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(*pruned, 2);
  EXPECT_EQ(store_->ListDeployments("web", 0)->size(), 10u);
  EXPECT_FALSE(store_->GetDeployment("web", "deploy-1").ok());
  EXPECT_FALSE(store_->GetDeployment("web", "deploy-2").ok());
  EXPECT_TRUE(store_->GetDeployment("web", "deploy-3").ok()) << "its version runs";
  EXPECT_EQ(store_->ListVersions("web")->size(), 12u) << "versions are never pruned";
  EXPECT_EQ(*ApplyRetention(*store_, "web", 10), 0);
  EXPECT_EQ(*ApplyRetention(*store_, "web", 0), 0);
}

// Not a fixture test: these files are not lastgood stores to begin with.

TEST(SqliteStoreOpen, RefusesAStoreFromANewerLastgoodAndLeavesItUntouched) {
  TempDir dir;
  std::string path = dir.File("store.db");
  ASSERT_NE(Open(path), nullptr);
  int newer = sqlite::CurrentSchemaVersion() + 5;
  Sql(path, "PRAGMA user_version = " + std::to_string(newer));
  std::string before = ReadAll(path);
  auto refused = OpenSqliteStore(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(refused.error().message, "the store at " + path + " has schema version " +
                                         std::to_string(newer) + ", newer than this lastgood (" +
                                         std::to_string(sqlite::CurrentSchemaVersion()) +
                                         "); upgrade lastgood");
  EXPECT_EQ(ReadAll(path), before);
}

TEST(SqliteStoreOpen, RefusesAFileThatIsNotADatabaseAndLeavesItUntouched) {
  TempDir dir;
  std::string path = dir.File("store.db");
  std::string garbage(8192, 'x');
  std::ofstream(path, std::ios::binary) << garbage;
  auto refused = OpenSqliteStore(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("is not a lastgood store"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(ReadAll(path), garbage);
}

TEST(SqliteStoreOpen, RefusesAnotherApplicationsDatabase) {
  TempDir dir;
  std::string path = dir.File("other.db");
  Sql(path, "CREATE TABLE apps (x)");
  auto refused = OpenSqliteStore(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("another application"), std::string::npos);
}

TEST(SqliteStoreOpen, ADirectoryThatDoesNotExistIsUnavailable) {
  TempDir dir;
  auto refused = OpenSqliteStore(dir.File("missing/store.db"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace lastgood
