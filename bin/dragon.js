#!/usr/bin/env node
// Runs the compiled service (npm ci builds dist/ through the prepare script).
import '../dist/services/cli/main.js';
