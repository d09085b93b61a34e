#!/usr/bin/env node
// The CLI ships compiled (npm install runs the build); see src/cli/.
import '../dist/cli/main.js';
