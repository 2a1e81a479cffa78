# switchboard_add_plugin(<name> SOURCES <files...> [OUTPUT_DIRECTORY <dir>] [INSTALL_DESTINATION <dir>])
#
# Builds a Switchboard connector plugin the same way everywhere (in this repository and out
# of tree): a MODULE library named switchboard-<name>.so that links Switchboard::sdk only,
# exports nothing but the entry symbol, and keeps its C++ runtime symbols to itself.
include_guard(GLOBAL)

function(switchboard_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OUTPUT_DIRECTORY;INSTALL_DESTINATION" "SOURCES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "switchboard_add_plugin(${name}): SOURCES is required")
  endif()
  set(target switchboard-plugin-${name})
  set(export_map "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/switchboard-plugin.map")
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE Switchboard::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "switchboard-${name}"
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(NOT APPLE)
    # Do not let the plugin's symbols interpose on the host's (or another plugin's).
    target_link_options(${target} PRIVATE "LINKER:-Bsymbolic" "LINKER:--no-undefined"
      "LINKER:--version-script=${export_map}")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${export_map})
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  if(ARG_INSTALL_DESTINATION)
    install(TARGETS ${target} LIBRARY DESTINATION ${ARG_INSTALL_DESTINATION})
  endif()
endfunction()
