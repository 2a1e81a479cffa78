// Merging and unmerging customers, exactly and reversibly. Every interaction and identity
// row keeps original_customer_id (the customer it was first resolved to) and customer_id
// (the live customer it belongs to now, always the root of the original's merge chain).
// A merge points the absorbed customer at the survivor and moves the rows; an unmerge
// makes the absorbed customer live again and gives back every row whose original customer
// lies in its subtree — also for chains (A into B, B into C: undo either, in any order).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace switchboard::host {
class Sql;  // store/sql.h
}

namespace switchboard::host::customer {

// Both ids must be live (status active). Returns the merge id. Runs in the caller's transaction.
int64_t mergeCustomers(Sql& session, const std::string& survivor, const std::string& absorbed,
                       const std::string& triggerJson, int64_t atMs);

struct UnmergeOutcome {
    bool ok = false;
    std::string error;  // why not: unknown merge, already undone
    std::string restoredCustomerId;
};

UnmergeOutcome unmergeCustomers(Sql& session, int64_t mergeId, int64_t atMs);

// The live customer an id stands for now (itself, or the end of its merged_into chain);
// nullopt for an unknown id.
std::optional<std::string> liveCustomerOf(Sql& session, const std::string& id);

}  // namespace switchboard::host::customer
