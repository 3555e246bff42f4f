export { hasTool, requireTool, TOOL_INSTALL_HINT } from './tools'
