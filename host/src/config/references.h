// ${env:NAME} and ${file:PATH} references inside config strings, so secrets live in the
// environment or in files (Docker/Kubernetes secrets) and never in switchboard.yaml.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::host::config {

struct ResolvedText {
    std::string value;
    bool fromReference = false;       // at least one reference was substituted
    std::vector<std::string> errors;  // one message per bad reference; never quotes a value
};

// Replaces every ${env:NAME} and ${file:PATH} in text; "$${" stands for a literal "${".
// A relative PATH is read relative to baseDir. A file's single trailing newline (\n or
// \r\n) is dropped, because editors and `echo` add one that is not part of the secret.
// Substituted text is not scanned again.
ResolvedText resolveReferences(std::string_view text, const std::filesystem::path& baseDir);

// YAML reads `{ secret: ${env:X} }` as a nested flow map, yet that is how people write a
// reference inside braces. Before parsing, a reference that starts an unquoted value is
// wrapped in single quotes, so it reaches resolveReferences as text. Quoted strings and
// comments are left alone; columns after a quoted reference on its line shift by two.
std::string quoteBareReferences(std::string_view yamlText);

}  // namespace switchboard::host::config
