export { hasTool, requireTool, TOOL_INSTALL_HINT } from './tools'
export { loadAsConsumers } from './consumers'
export type { ConsumerExports } from './consumers'
export * from './prometheus'
