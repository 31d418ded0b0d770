// The console module, which every function but the webhook loads: its `compileTemplates`, which
// the benchmark uses to give the corpus's settings as saving them stores them (not measured), and
// the first step of opening the agent's panel, which measurement 1 times on a cold instance.
export { compileTemplates, openStart } from '../../src/console.js';
