#include "request_fixture.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace switchboard::plugincheck {

namespace {

const char* const kFields[] = {"method", "path", "headers", "body", "body_file", "expect_status"};

[[noreturn]] void fail(const std::string& file, const YAML::Node& at, const std::string& what) {
    std::string where = file;
    if (at.IsDefined() && at.Mark().line >= 0) where += ":" + std::to_string(at.Mark().line + 1);
    throw std::runtime_error("request file " + where + ": " + what);
}

std::string scalar(const std::string& file, const YAML::Node& node, const std::string& field) {
    if (!node.IsScalar()) fail(file, node, "'" + field + "' must be a string");
    return node.as<std::string>();
}

std::string readBodyFile(const std::string& file, const YAML::Node& node) {
    namespace fs = std::filesystem;
    fs::path p = scalar(file, node, "body_file");
    if (p.is_relative()) p = fs::path(file).parent_path() / p;
    std::ifstream in(p, std::ios::binary);
    if (!in) fail(file, node, "body_file '" + p.string() + "' cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

RequestFixture loadRequestFixture(const std::string& file) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(file);
    } catch (const YAML::BadFile&) {
        throw std::runtime_error("request file " + file + ": cannot be read");
    } catch (const YAML::Exception& e) {
        throw std::runtime_error("request file " + file + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " +
                                 e.msg);
    }
    if (!root.IsMap()) fail(file, root, "expected a map with method, path, headers, body or body_file, expect_status");
    for (const auto& entry : root) {
        const std::string key = entry.first.as<std::string>();
        if (std::find(std::begin(kFields), std::end(kFields), key) == std::end(kFields))
            fail(file, entry.first,
                 "unknown field '" + key + "' (allowed: method, path, headers, body, body_file, expect_status)");
    }

    RequestFixture r;
    r.file = file;
    if (root["method"]) r.call.method = scalar(file, root["method"], "method");
    if (r.call.method.empty()) fail(file, root["method"], "'method' must not be empty");
    if (root["path"]) {
        std::string path = scalar(file, root["path"], "path");
        if (auto q = path.find('?'); q != std::string::npos) {
            r.call.query = path.substr(q + 1);
            path.resize(q);
        }
        if (!path.empty() && path.front() != '/')
            fail(file, root["path"], "'path' must be empty or start with '/' (it is the part after /webhooks/{instance})");
        r.call.path = path;
    }
    if (const auto headers = root["headers"]) {
        if (!headers.IsMap()) fail(file, headers, "'headers' must be a map of name: value");
        for (const auto& h : headers) {
            std::string name = h.first.as<std::string>();
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            r.call.headers.emplace_back(name, scalar(file, h.second, "headers." + name));
        }
    }
    if (root["body"] && root["body_file"]) fail(file, root["body_file"], "give 'body' or 'body_file', not both");
    if (root["body"]) r.call.body = scalar(file, root["body"], "body");
    if (root["body_file"]) r.call.body = readBodyFile(file, root["body_file"]);

    const auto expect = root["expect_status"];
    if (!expect) fail(file, root, "'expect_status' is required (the HTTP status the plugin must answer)");
    try {
        r.expectStatus = expect.as<int>();
    } catch (const YAML::Exception&) {
        fail(file, expect, "'expect_status' must be an integer HTTP status");
    }
    if (r.expectStatus < 100 || r.expectStatus > 599)
        fail(file, expect, "'expect_status' must be 100 to 599, got " + std::to_string(r.expectStatus));
    return r;
}

}  // namespace switchboard::plugincheck
