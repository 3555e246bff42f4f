/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/reporters.test.ts > TAP > github output is stable (snapshot) > must match snapshot 1`] = `
::error file=src/app.ts,line=9,col=15,endLine=9,endColumn=24,title=o11y-gate plugins-registered::this file creates a Fastify app with routes but its project (.) never registers @o11y/tracing, the @o11y/logging logger%0AFix: Register the missing plugins: app.register(o11yMetrics), app.register(o11yTracing), and create the app with Fastify({ ...fastifyLoggerOptions() }) or app.register(o11yLogging).
::error file=src/odd%2Cname%3Afile.ts,line=2,col=3,endLine=2,endColumn=45,title=o11y-gate route-instrumented::route handler GET /odd has no tracing, metrics or logging%0AFix: Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging).
::error file=src/routes/orders.ts,line=9,col=23,endLine=9,endColumn=67,title=o11y-gate label-cardinality::label "order" of ordersTotal.inc() takes its value from request params%0AFix: Use a bounded value as the label (the route template, a status, an enum member); put ids and URLs on the span (addSpanAttributes) or in the log line instead.
::error file=src/routes/orders.ts,line=16,col=7,endLine=18,endColumn=6,title=o11y-gate error-observed::catch block in orderRoutes neither rethrows, logs nor records the error on a span%0AFix: Rethrow, log it (request.log.error({ err }, ...)), or record it on the span (span.recordException(err)); if swallowing is intended, say why with an o11y-gate-ignore comment.
::error file=src/routes/orders.ts,line=21,col=3,endLine=24,endColumn=5,title=o11y-gate route-instrumented::route handler GET /api/50%25-off%0D%0Apromo has no tracing, metrics or logging%0AFix: Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging).
::error file=src/routes/orders.ts,line=21,col=48,endLine=21,endColumn=62,title=o11y-gate opt-out-justified::route GET /api/50%25-off%0D%0Apromo turns metrics off without a comment saying why%0AFix: Add a comment next to the opt-out (or directly above the route) saying why this route must not be measured, e.g. \`metrics: false, // scraped by Prometheus every 15 s: would drown the RED metrics\`.
::error file=src/routes/orders.ts,line=22,col=5,endLine=22,endColumn=25,title=o11y-gate no-console::console.log() inside a route handler or plugin%0AFix: Use request.log.<level>(...) in handlers and hooks, fastify.log or getLogger(name) from @o11y/logging in plugins.

`

exports[`test/reporters.test.ts > TAP > json output is stable (snapshot) > must match snapshot 1`] = `
{
  "tool": {
    "name": "o11y-gate",
    "version": "0.0.0"
  },
  "summary": {
    "files": 3,
    "errors": 7,
    "warnings": 0,
    "suppressed": 0,
    "baselined": 0,
    "byRule": {
      "error-observed": 1,
      "label-cardinality": 1,
      "no-console": 1,
      "opt-out-justified": 1,
      "plugins-registered": 1,
      "route-instrumented": 2,
      "suppression-reason": 0
    },
    "handlers": 4,
    "categories": {
      "tracing": 1,
      "metrics": 1,
      "logging": 0
    }
  },
  "findings": [
    {
      "ruleId": "plugins-registered",
      "severity": "error",
      "file": "src/app.ts",
      "line": 9,
      "column": 15,
      "endLine": 9,
      "endColumn": 24,
      "message": "this file creates a Fastify app with routes but its project (.) never registers @o11y/tracing, the @o11y/logging logger",
      "fix": "Register the missing plugins: app.register(o11yMetrics), app.register(o11yTracing), and create the app with Fastify({ ...fastifyLoggerOptions() }) or app.register(o11yLogging).",
      "fingerprint": "ff53275d381bb40f0c14af733a356c5a"
    },
    {
      "ruleId": "route-instrumented",
      "severity": "error",
      "file": "src/odd,name:file.ts",
      "line": 2,
      "column": 3,
      "endLine": 2,
      "endColumn": 45,
      "message": "route handler GET /odd has no tracing, metrics or logging",
      "fix": "Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging).",
      "fingerprint": "9188a4327be93d60baeaf9bdd565c316"
    },
    {
      "ruleId": "label-cardinality",
      "severity": "error",
      "file": "src/routes/orders.ts",
      "line": 9,
      "column": 23,
      "endLine": 9,
      "endColumn": 67,
      "message": "label \\"order\\" of ordersTotal.inc() takes its value from request params",
      "fix": "Use a bounded value as the label (the route template, a status, an enum member); put ids and URLs on the span (addSpanAttributes) or in the log line instead.",
      "fingerprint": "52a7bfa1383054e350cbe00675090c55"
    },
    {
      "ruleId": "error-observed",
      "severity": "error",
      "file": "src/routes/orders.ts",
      "line": 16,
      "column": 7,
      "endLine": 18,
      "endColumn": 6,
      "message": "catch block in orderRoutes neither rethrows, logs nor records the error on a span",
      "fix": "Rethrow, log it (request.log.error({ err }, ...)), or record it on the span (span.recordException(err)); if swallowing is intended, say why with an o11y-gate-ignore comment.",
      "fingerprint": "48a727e0776c6bdf568ba7742f357860"
    },
    {
      "ruleId": "route-instrumented",
      "severity": "error",
      "file": "src/routes/orders.ts",
      "line": 21,
      "column": 3,
      "endLine": 24,
      "endColumn": 5,
      "message": "route handler GET /api/50%-off\\r\\npromo has no tracing, metrics or logging",
      "fix": "Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging).",
      "fingerprint": "1f63c3f87438d3174d2577361665b1ee"
    },
    {
      "ruleId": "opt-out-justified",
      "severity": "error",
      "file": "src/routes/orders.ts",
      "line": 21,
      "column": 48,
      "endLine": 21,
      "endColumn": 62,
      "message": "route GET /api/50%-off\\r\\npromo turns metrics off without a comment saying why",
      "fix": "Add a comment next to the opt-out (or directly above the route) saying why this route must not be measured, e.g. \`metrics: false, // scraped by Prometheus every 15 s: would drown the RED metrics\`.",
      "fingerprint": "65f6947ee47733264dc90bb8f2369d22"
    },
    {
      "ruleId": "no-console",
      "severity": "error",
      "file": "src/routes/orders.ts",
      "line": 22,
      "column": 5,
      "endLine": 22,
      "endColumn": 25,
      "message": "console.log() inside a route handler or plugin",
      "fix": "Use request.log.<level>(...) in handlers and hooks, fastify.log or getLogger(name) from @o11y/logging in plugins.",
      "fingerprint": "01323700034b784ca7689f327ff548a3"
    }
  ],
  "handlers": [
    {
      "file": "src/odd,name:file.ts",
      "line": 2,
      "route": "GET /odd",
      "categories": []
    },
    {
      "file": "src/routes/orders.ts",
      "line": 8,
      "route": "GET /api/orders/:id",
      "categories": [
        "metrics"
      ]
    },
    {
      "file": "src/routes/orders.ts",
      "line": 13,
      "route": "POST /api/orders",
      "categories": [
        "tracing"
      ]
    },
    {
      "file": "src/routes/orders.ts",
      "line": 21,
      "route": "GET /api/50%-off\\r\\npromo",
      "categories": []
    }
  ]
}

`

exports[`test/reporters.test.ts > TAP > sarif output is stable (snapshot) > must match snapshot 1`] = `
{
  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
  "version": "2.1.0",
  "runs": [
    {
      "tool": {
        "driver": {
          "name": "o11y-gate",
          "semanticVersion": "0.0.0",
          "informationUri": "https://github.com/o11y-fastify/o11y-fastify/tree/main/packages/ci-gate#readme",
          "rules": [
            {
              "id": "error-observed",
              "name": "ErrorObserved",
              "shortDescription": {
                "text": "A catch block that neither rethrows, logs nor records the exception on a span"
              },
              "fullDescription": {
                "text": "A catch block that neither rethrows, logs nor records the exception on a span: the failure disappears from every signal."
              },
              "help": {
                "text": "Rethrow, log it (request.log.error({ err }, ...)), or record it on the span (span.recordException(err)); if swallowing is intended, say why with an o11y-gate-ignore comment.",
                "markdown": "**How to fix:** Rethrow, log it (request.log.error({ err }, ...)), or record it on the span (span.recordException(err)); if swallowing is intended, say why with an o11y-gate-ignore comment."
              },
              "helpUri": "https://github.com/o11y-fastify/o11y-fastify/tree/main/packages/ci-gate#error-observed",
              "defaultConfiguration": {
                "level": "error"
              },
              "properties": {
                "tags": [
                  "observability"
                ]
              }
            },
            {
              "id": "label-cardinality",
              "name": "LabelCardinality",
              "shortDescription": {
                "text": "A metric label whose value comes from request params, query, headers or body, from a URL, or from an id-like field"
              },
              "fullDescription": {
                "text": "A metric label whose value comes from request params, query, headers or body, from a URL, or from an id-like field: every distinct value creates a new time series."
              },
              "help": {
                "text": "Use a bounded value as the label (the route template, a status, an enum member); put ids and URLs on the span (addSpanAttributes) or in the log line instead.",
                "markdown": "**How to fix:** Use a bounded value as the label (the route template, a status, an enum member); put ids and URLs on the span (addSpanAttributes) or in the log line instead."
              },
              "helpUri": "https://github.com/o11y-fastify/o11y-fastify/tree/main/packages/ci-gate#label-cardinality",
              "defaultConfiguration": {
                "level": "error"
              },
              "properties": {
                "tags": [
                  "observability"
                ]
              }
            },
            {
              "id": "no-console",
              "name": "NoConsole",
              "shortDescription": {
                "text": "console.* inside a route handler, a Fastify plugin, hook or error handler"
              },
              "fullDescription": {
                "text": "console.* inside a route handler, a Fastify plugin, hook or error handler: the line carries no trace id, no level and no request context."
              },
              "help": {
                "text": "Use request.log.<level>(...) in handlers and hooks, fastify.log or getLogger(name) from @o11y/logging in plugins.",
                "markdown": "**How to fix:** Use request.log.<level>(...) in handlers and hooks, fastify.log or getLogger(name) from @o11y/logging in plugins."
              },
              "helpUri": "https://github.com/o11y-fastify/o11y-fastify/tree/main/packages/ci-gate#no-console",
              "defaultConfiguration": {
                "level": "error"
              },
              "properties": {
                "tags": [
                  "observability"
                ]
              }
            },
            {
              "id": "opt-out-justified",
              "name": "OptOutJustified",
              "shortDescription": {
                "text": "A route that opts out of telemetry with config"
              },
              "fullDescription": {
                "text": "A route that opts out of telemetry with config: { metrics: false }, { tracing: false } or { logging: false } must say why in a comment."
              },
              "help": {
                "text": "Add a comment next to the opt-out (or directly above the route) saying why this route must not be measured, e.g. \`metrics: false, // scraped by Prometheus every 15 s: would drown the RED metrics\`.",
                "markdown": "**How to fix:** Add a comment next to the opt-out (or directly above the route) saying why this route must not be measured, e.g. \`metrics: false, // scraped by Prometheus every 15 s: would drown the RED metrics\`."
              },
              "helpUri": "https://github.com/o11y-fastify/o11y-fastify/tree/main/packages/ci-gate#opt-out-justified",
              "defaultConfiguration": {
                "level": "error"
              },
              "properties": {
                "tags": [
                  "observability"
                ]
              }
            },
            {
              "id": "plugins-registered",
              "name": "PluginsRegistered",
              "shortDescription": {
                "text": "A file that creates a Fastify instance and registers routes, in a project that never registers @o11y/metrics, @o11y/tracing or the @o11y/logging logger."
              },
              "fullDescription": {
                "text": "A file that creates a Fastify instance and registers routes, in a project that never registers @o11y/metrics, @o11y/tracing or the @o11y/logging logger."
              },
              "help": {
                "text": "Register the missing plugins: app.register(o11yMetrics), app.register(o11yTracing), and create the app with Fastify({ ...fastifyLoggerOptions() }) or app.register(o11yLogging).",
                "markdown": "**How to fix:** Register the missing plugins: app.register(o11yMetrics), app.register(o11yTracing), and create the app with Fastify({ ...fastifyLoggerOptions() }) or app.register(o11yLogging)."
              },
              "helpUri": "https://github.com/o11y-fastify/o11y-fastify/tree/main/packages/ci-gate#plugins-registered",
              "defaultConfiguration": {
                "level": "error"
              },
              "properties": {
                "tags": [
                  "observability"
                ]
              }
            },
            {
              "id": "route-instrumented",
              "name": "RouteInstrumented",
              "shortDescription": {
                "text": "A new or changed Fastify route handler that does real work (calls, awaits) must contain the required instrumentation categories"
              },
              "fullDescription": {
                "text": "A new or changed Fastify route handler that does real work (calls, awaits) must contain the required instrumentation categories: tracing, metrics, logging."
              },
              "help": {
                "text": "Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging).",
                "markdown": "**How to fix:** Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging)."
              },
              "helpUri": "https://github.com/o11y-fastify/o11y-fastify/tree/main/packages/ci-gate#route-instrumented",
              "defaultConfiguration": {
                "level": "error"
              },
              "properties": {
                "tags": [
                  "observability"
                ]
              }
            },
            {
              "id": "suppression-reason",
              "name": "SuppressionReason",
              "shortDescription": {
                "text": "An o11y-gate-ignore comment without a known rule id or without a reason."
              },
              "fullDescription": {
                "text": "An o11y-gate-ignore comment without a known rule id or without a reason."
              },
              "help": {
                "text": "Write it as \`// o11y-gate-ignore <rule-id>: <why this is fine>\`.",
                "markdown": "**How to fix:** Write it as \`// o11y-gate-ignore <rule-id>: <why this is fine>\`."
              },
              "helpUri": "https://github.com/o11y-fastify/o11y-fastify/tree/main/packages/ci-gate#suppression-reason",
              "defaultConfiguration": {
                "level": "error"
              },
              "properties": {
                "tags": [
                  "observability"
                ]
              }
            }
          ]
        }
      },
      "columnKind": "utf16CodeUnits",
      "results": [
        {
          "ruleId": "plugins-registered",
          "ruleIndex": 4,
          "level": "error",
          "message": {
            "text": "this file creates a Fastify app with routes but its project (.) never registers @o11y/tracing, the @o11y/logging logger. Register the missing plugins: app.register(o11yMetrics), app.register(o11yTracing), and create the app with Fastify({ ...fastifyLoggerOptions() }) or app.register(o11yLogging)."
          },
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "src/app.ts",
                  "uriBaseId": "%SRCROOT%"
                },
                "region": {
                  "startLine": 9,
                  "startColumn": 15,
                  "endLine": 9,
                  "endColumn": 24
                }
              }
            }
          ],
          "partialFingerprints": {
            "o11yGate/v1": "ff53275d381bb40f0c14af733a356c5a"
          }
        },
        {
          "ruleId": "route-instrumented",
          "ruleIndex": 5,
          "level": "error",
          "message": {
            "text": "route handler GET /odd has no tracing, metrics or logging. Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging)."
          },
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "src/odd%2Cname%3Afile.ts",
                  "uriBaseId": "%SRCROOT%"
                },
                "region": {
                  "startLine": 2,
                  "startColumn": 3,
                  "endLine": 2,
                  "endColumn": 45
                }
              }
            }
          ],
          "partialFingerprints": {
            "o11yGate/v1": "9188a4327be93d60baeaf9bdd565c316"
          }
        },
        {
          "ruleId": "label-cardinality",
          "ruleIndex": 1,
          "level": "error",
          "message": {
            "text": "label \\"order\\" of ordersTotal.inc() takes its value from request params. Use a bounded value as the label (the route template, a status, an enum member); put ids and URLs on the span (addSpanAttributes) or in the log line instead."
          },
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "src/routes/orders.ts",
                  "uriBaseId": "%SRCROOT%"
                },
                "region": {
                  "startLine": 9,
                  "startColumn": 23,
                  "endLine": 9,
                  "endColumn": 67
                }
              }
            }
          ],
          "partialFingerprints": {
            "o11yGate/v1": "52a7bfa1383054e350cbe00675090c55"
          }
        },
        {
          "ruleId": "error-observed",
          "ruleIndex": 0,
          "level": "error",
          "message": {
            "text": "catch block in orderRoutes neither rethrows, logs nor records the error on a span. Rethrow, log it (request.log.error({ err }, ...)), or record it on the span (span.recordException(err)); if swallowing is intended, say why with an o11y-gate-ignore comment."
          },
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "src/routes/orders.ts",
                  "uriBaseId": "%SRCROOT%"
                },
                "region": {
                  "startLine": 16,
                  "startColumn": 7,
                  "endLine": 18,
                  "endColumn": 6
                }
              }
            }
          ],
          "partialFingerprints": {
            "o11yGate/v1": "48a727e0776c6bdf568ba7742f357860"
          }
        },
        {
          "ruleId": "route-instrumented",
          "ruleIndex": 5,
          "level": "error",
          "message": {
            "text": "route handler GET /api/50%-off\\r\\npromo has no tracing, metrics or logging. Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging)."
          },
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "src/routes/orders.ts",
                  "uriBaseId": "%SRCROOT%"
                },
                "region": {
                  "startLine": 21,
                  "startColumn": 3,
                  "endLine": 24,
                  "endColumn": 5
                }
              }
            }
          ],
          "partialFingerprints": {
            "o11yGate/v1": "1f63c3f87438d3174d2577361665b1ee"
          }
        },
        {
          "ruleId": "opt-out-justified",
          "ruleIndex": 3,
          "level": "error",
          "message": {
            "text": "route GET /api/50%-off\\r\\npromo turns metrics off without a comment saying why. Add a comment next to the opt-out (or directly above the route) saying why this route must not be measured, e.g. \`metrics: false, // scraped by Prometheus every 15 s: would drown the RED metrics\`."
          },
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "src/routes/orders.ts",
                  "uriBaseId": "%SRCROOT%"
                },
                "region": {
                  "startLine": 21,
                  "startColumn": 48,
                  "endLine": 21,
                  "endColumn": 62
                }
              }
            }
          ],
          "partialFingerprints": {
            "o11yGate/v1": "65f6947ee47733264dc90bb8f2369d22"
          }
        },
        {
          "ruleId": "no-console",
          "ruleIndex": 2,
          "level": "error",
          "message": {
            "text": "console.log() inside a route handler or plugin. Use request.log.<level>(...) in handlers and hooks, fastify.log or getLogger(name) from @o11y/logging in plugins."
          },
          "locations": [
            {
              "physicalLocation": {
                "artifactLocation": {
                  "uri": "src/routes/orders.ts",
                  "uriBaseId": "%SRCROOT%"
                },
                "region": {
                  "startLine": 22,
                  "startColumn": 5,
                  "endLine": 22,
                  "endColumn": 25
                }
              }
            }
          ],
          "partialFingerprints": {
            "o11yGate/v1": "01323700034b784ca7689f327ff548a3"
          }
        }
      ]
    }
  ]
}

`

exports[`test/reporters.test.ts > TAP > stylish output is stable (snapshot) > must match snapshot 1`] = `
src/app.ts
  9:15    error    this file creates a Fastify app with routes but its project (.) never registers @o11y/tracing, the @o11y/logging logger  plugins-registered
                   fix: Register the missing plugins: app.register(o11yMetrics), app.register(o11yTracing), and create the app with Fastify({ ...fastifyLoggerOptions() }) or app.register(o11yLogging).

src/odd,name:file.ts
  2:3     error    route handler GET /odd has no tracing, metrics or logging  route-instrumented
                   fix: Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging).

src/routes/orders.ts
  9:23    error    label "order" of ordersTotal.inc() takes its value from request params  label-cardinality
                   fix: Use a bounded value as the label (the route template, a status, an enum member); put ids and URLs on the span (addSpanAttributes) or in the log line instead.
  16:7    error    catch block in orderRoutes neither rethrows, logs nor records the error on a span  error-observed
                   fix: Rethrow, log it (request.log.error({ err }, ...)), or record it on the span (span.recordException(err)); if swallowing is intended, say why with an o11y-gate-ignore comment.
  21:3    error    route handler GET /api/50%-off\\r\\npromo has no tracing, metrics or logging  route-instrumented
                   fix: Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging).
  21:48   error    route GET /api/50%-off\\r\\npromo turns metrics off without a comment saying why  opt-out-justified
                   fix: Add a comment next to the opt-out (or directly above the route) saying why this route must not be measured, e.g. \`metrics: false, // scraped by Prometheus every 15 s: would drown the RED metrics\`.
  22:5    error    console.log() inside a route handler or plugin  no-console
                   fix: Use request.log.<level>(...) in handlers and hooks, fastify.log or getLogger(name) from @o11y/logging in plugins.

7 problems (7 errors, 0 warnings) in 3 files of 3 checked.
By rule: error-observed 1, label-cardinality 1, no-console 1, opt-out-justified 1, plugins-registered 1, route-instrumented 2.
Route handlers checked: 4; with tracing 1/4, metrics 1/4, logging 0/4.

`
