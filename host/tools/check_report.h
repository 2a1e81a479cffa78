// The report switchboard-plugin-check prints: one PASS/FAIL/SKIP line per check, notes in
// between, and the totals that decide the exit status.
#pragma once

#include <exception>
#include <functional>
#include <iostream>
#include <string>

namespace switchboard::plugincheck {

// At most max bytes of text on one line: a plugin's answer or reason quoted in a report line.
inline std::string excerpt(const std::string& text, size_t max = 200) {
    std::string out;
    for (char c : text.substr(0, max)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    if (text.size() > max) out += "...";
    return out;
}

class Report {
public:
    // Runs fn: "" passes, any other text is the reason it failed. An exception fails it too.
    void check(const std::string& name, const std::function<std::string()>& fn) {
        std::string why;
        try {
            why = fn();
        } catch (const std::exception& e) {
            why = std::string("exception: ") + e.what();
        }
        if (why.empty()) {
            ++passed_;
            std::cout << "PASS  " << name << "\n";
        } else {
            ++failed_;
            std::cout << "FAIL  " << name << ": " << why << "\n";
        }
    }
    void skip(const std::string& name, const std::string& why) { std::cout << "SKIP  " << name << ": " << why << "\n"; }
    void note(const std::string& text) { std::cout << "note: " << text << "\n"; }

    int passed() const { return passed_; }
    int failed() const { return failed_; }
    void printTotals() const { std::cout << passed_ << " passed, " << failed_ << " failed\n"; }

private:
    int passed_ = 0;
    int failed_ = 0;
};

}  // namespace switchboard::plugincheck
