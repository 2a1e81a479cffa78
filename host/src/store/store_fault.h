// Which errors are the store's own (it cannot write now: disk full, I/O error, a lock held
// elsewhere, a lost connection) rather than one batch's data, for readiness (/readyz).
#pragma once

#include <exception>
#include <optional>
#include <string>

namespace switchboard::host {

// The engine's short message ("database or disk is full") when e is a fault of the store;
// nullopt when it is the data's or the code's (a constraint, a type, a missing table).
std::optional<std::string> storeFaultCause(const std::exception& e);

// The engine's message without POCO's class prefix or the SQL text it appends: what an
// operator reads in a reason.
std::string engineMessage(const std::exception& e);

}  // namespace switchboard::host
