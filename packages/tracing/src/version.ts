/** Version reported as the instrumentation scope version of our spans. */
export const VERSION: string = (require('../package.json') as { version: string }).version
