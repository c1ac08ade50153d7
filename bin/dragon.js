#!/usr/bin/env node
import { runCli } from '../dist/services/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
