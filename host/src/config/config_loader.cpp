// Entry points: read switchboard.yaml, hand each top-level section to its parser, and
// return either a complete HostConfig or every error found.
#include "config/config.h"
#include "config/references.h"
#include "config/parse_context.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace switchboard::host::config {

namespace {

const std::vector<std::string> kTopLevelKeys = {"server", "store", "plugins", "connectors", "log", "identity",
                                                "threading", "routing", "outbox"};

std::filesystem::path configDir(const std::string& file) {
    // Absolute, so resolved paths stay right if the host later changes directory.
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::absolute(std::filesystem::path(file).parent_path(), ec);
    if (ec) dir = std::filesystem::path(file).parent_path();
    return dir.lexically_normal();
}

}  // namespace

LoadResult loadText(const std::string& text, const std::string& file) {
    ParseContext ctx(file, configDir(file));
    YAML::Node root;
    try {
        root = YAML::Load(quoteBareReferences(text));
    } catch (const YAML::Exception& e) {
        ctx.error(ctx.locate(e.mark), "", "invalid YAML: " + e.msg);
        return {std::nullopt, std::move(ctx.errors())};
    }

    HostConfig config;
    config.file = file;
    config.store.sqlitePath = ctx.resolvePath(config.store.sqlitePath);
    for (const MapEntry& section : ctx.mapEntries(root, "", kTopLevelKeys)) {
        if (section.key == "server") parseServer(ctx, section, config.server);
        else if (section.key == "store") parseStore(ctx, section, config.store);
        else if (section.key == "plugins") parsePlugins(ctx, section, config.pluginPaths);
        else if (section.key == "connectors") parseConnectors(ctx, section, config.connectors);
        else if (section.key == "log") parseLog(ctx, section, config.log);
        else if (section.key == "identity") parseIdentity(ctx, section, config.identity);
        else if (section.key == "threading") parseThreading(ctx, section, config.threading);
        else if (section.key == "routing") parseRouting(ctx, section, config.routing);
        else if (section.key == "outbox") parseOutbox(ctx, section, config.outbox);
    }

    // Actions may name connectors declared further down the file.
    for (auto& e : checkRoutingConnectors(config.routing, config.connectors)) ctx.errors().push_back(std::move(e));

    if (!ctx.errors().empty()) return {std::nullopt, std::move(ctx.errors())};
    return {std::move(config), {}};
}

LoadResult loadFile(const std::string& path) {
    auto failed = [&](int error) {
        return LoadResult{std::nullopt, {{{path, 0, 0}, "", std::string("cannot read config file: ") +
                                                                 std::strerror(error)}}};
    };
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) return failed(errno);
    std::string text;
    char buffer[8192];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
    if (std::ferror(file.get())) return failed(errno);  // e.g. EISDIR: fopen accepts a directory
    return loadText(text, path);
}

}  // namespace switchboard::host::config
