#include "config/config.h"
#include "config/suggest.h"

#include <algorithm>

namespace switchboard::host::config {

namespace {

size_t editDistance(const std::string& a, const std::string& b) {
    // Two rows of the Levenshtein table are enough.
    std::vector<size_t> previous(b.size() + 1);
    std::vector<size_t> current(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

}  // namespace

std::optional<std::string> suggestNearest(const std::string& name,
                                          const std::vector<std::string>& candidates) {
    const size_t limit = std::max<size_t>(2, name.size() / 3);
    std::optional<std::string> best;
    size_t bestDistance = 0;
    for (const auto& candidate : candidates) {
        size_t distance = editDistance(name, candidate);
        // Replacing every character is no typo: "id" is not a misspelling of "to".
        if (distance > limit || distance >= std::max(name.size(), candidate.size())) continue;
        if (!best || distance < bestDistance) {  // strict: ties keep the earlier candidate
            best = candidate;
            bestDistance = distance;
        }
    }
    return best;
}

std::string joinNames(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

std::string unknownNameMessage(const std::string& what, const std::string& name,
                               const std::vector<std::string>& candidates, const std::string& listLabel) {
    std::string message = "unknown " + what + " '" + name + "' (";
    if (candidates.empty()) return message + "none are accepted here)";
    if (auto nearest = suggestNearest(name, candidates)) message += "did you mean '" + *nearest + "'? ";
    return message + listLabel + ": " + joinNames(candidates) + ")";
}

}  // namespace switchboard::host::config
