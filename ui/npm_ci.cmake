# cmake -DNPM=... -DUI_DIR=... -DSTAMP=... -P npm_ci.cmake
# Runs `npm ci` in UI_DIR when node_modules is missing or older than
# package-lock.json (npm writes node_modules/.package-lock.json at the end of
# every successful install). Touches STAMP only when it installed or when the
# stamp is missing, so what depends on STAMP rebuilds only after a change.

set(lock ${UI_DIR}/package-lock.json)
set(installed ${UI_DIR}/node_modules/.package-lock.json)

if(NOT EXISTS ${installed} OR ${lock} IS_NEWER_THAN ${installed})
  message(STATUS "ui: npm ci in ${UI_DIR}")
  execute_process(
    COMMAND ${NPM} ci --no-audit --no-fund
    WORKING_DIRECTORY ${UI_DIR}
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR
      "ui: `npm ci` failed in ${UI_DIR} (exit ${rc}); it needs the npm "
      "registry the first time, and whenever package-lock.json changes.")
  endif()
  if(NOT EXISTS ${UI_DIR}/node_modules/.bin/esbuild)
    message(FATAL_ERROR "ui: ${UI_DIR}/node_modules/.bin/esbuild is missing after npm ci")
  endif()
  file(TOUCH ${STAMP})
elseif(NOT EXISTS ${STAMP})
  file(TOUCH ${STAMP})
endif()
