// The console module's `compileTemplates`, which the benchmark uses to give the corpus's settings
// as saving them stores them (custom templates compiled for the core module). Not measured.
export { compileTemplates } from '../../src/console.js';
