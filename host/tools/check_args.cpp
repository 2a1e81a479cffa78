#include "check_args.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace switchboard::plugincheck {

namespace {

// RFC 9110 token characters: what a header name may contain.
bool isTokenChar(unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

std::string parseOption(const std::string& text, CheckArgs& out) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) return "--option expects NAME=VALUE, got '" + text + "'";
    out.options.emplace_back(text.substr(0, eq), text.substr(eq + 1));
    return "";
}

std::string parseHeader(const std::string& text, CheckArgs& out) {
    auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0) return "--header expects 'Name: value', got '" + text + "'";
    std::string name = text.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), [](unsigned char c) { return isTokenChar(c); }))
        return "--header: '" + name + "' is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)";
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = trim(std::string_view(text).substr(colon + 1));
    if (value.find_first_of("\r\n") != std::string::npos) return "--header '" + name + "': the value has a line break";
    out.headers.emplace_back(std::move(name), std::move(value));
    return "";
}

}  // namespace

std::string parseArgs(int argc, char** argv, CheckArgs& out) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            out.help = true;
            return "";
        }
        if (arg == "--sink" || arg == "--no-sink") {
            SinkMode mode = arg == "--sink" ? SinkMode::On : SinkMode::Off;
            if (out.sink != SinkMode::Auto && out.sink != mode) return "--sink and --no-sink cannot both be given";
            out.sink = mode;
            continue;
        }
        if (arg.rfind("--", 0) != 0) {
            if (!out.pluginFile.empty())
                return "one plugin file at a time: got '" + out.pluginFile + "' and '" + arg + "'";
            out.pluginFile = arg;
            continue;
        }
        // The flags with a value, as "--flag VALUE" or "--flag=VALUE".
        std::string flag = arg, value;
        bool inlineValue = false;
        if (auto eq = arg.find('='); eq != std::string::npos) {
            flag = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            inlineValue = true;
        }
        if (flag != "--option" && flag != "--header" && flag != "--request")
            return "unknown flag '" + flag + "' (see --help)";
        if (!inlineValue) {
            if (i + 1 >= argc) return flag + " needs a value (see --help)";
            value = argv[++i];
        }
        std::string error;
        if (flag == "--option") error = parseOption(value, out);
        else if (flag == "--header") error = parseHeader(value, out);
        else if (value.empty()) error = "--request needs a file name";
        else out.requestFiles.push_back(value);
        if (!error.empty()) return error;
    }
    if (out.pluginFile.empty()) return "no plugin file given (see --help)";
    return "";
}

const char* usageText() {
    return R"(usage: switchboard-plugin-check PLUGIN.so [flags]

Runs the Switchboard plugin contract checks on one plugin file, with the host's own loader
and host services: descriptor and option schema, a config missing required options refused,
start/stop idempotent, two instances side by side, garbage webhook input answered with an
error, request fixtures replayed, and (for sinks) send with sample messages.

Flags (each may be repeated unless noted):
  --option NAME=VALUE   Set option NAME of the instance under test. Repeat NAME for a list
                        option. A required option not given gets a dummy value, and the
                        tool prints each dummy it used ("dummy option: NAME = VALUE";
                        secret ones as ***). Point a sink's endpoint options at a reachable
                        test endpoint here.
  --header 'Name: value'
                        Add this header to every webhook request the tool sends (garbage
                        input and --request fixtures; a fixture's own header of the same
                        name wins). Names are lower-cased, as the host passes them.
  --request FILE        Replay the request FILE describes at the webhook handler and fail,
                        naming FILE, when the answer's status is not the expected one.
                        FILE is YAML:
                          method: POST              # default POST
                          path: /receipt?id=1       # below /webhooks/{instance}; default ""
                          headers:                  # optional map of name: value
                            Content-Type: application/json
                          body: '{"id":"m-1"}'      # or body_file: FILE (relative to this
                                                    # file); neither means an empty body
                          expect_status: 200        # required
  --sink                Require the sink checks: fail unless the plugin's kind includes
                        SB_KIND_SINK and send is answered (not UNSUPPORTED).
  --no-sink             Skip the sink checks.
                        Without either, the sink checks run when the kind includes
                        SB_KIND_SINK; a send answered UNSUPPORTED is then only a note.
                        The sink checks call send with a text message, an empty text, a
                        100 KB text and a non-ASCII text, and check that each outcome is
                        OK, RETRY, FAIL_DATA or FAIL_FATAL and that the provider message id
                        fits its buffer. After FAIL_FATAL nothing more is sent.
  -h, --help            Print this help (once; not repeatable) and exit 0.

Statuses are printed by name (OK, RETRY, FAIL_DATA, FAIL_FATAL, FAIL_CONFIG, UNSUPPORTED).
Secret option values are never printed: text from the plugin shows them as ***.

Exit status: 0 every check passed; 1 a check failed (the FAIL line says why); 2 the command
line, an option or a request file is wrong (the message names the flag or the file).
)";
}

}  // namespace switchboard::plugincheck
