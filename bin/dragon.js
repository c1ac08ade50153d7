#!/usr/bin/env node
// Runs the compiled CLI (npm ci builds dist/ through the prepare script).
import { runCli } from '../dist/services/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
