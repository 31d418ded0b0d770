// Starts a page: view context and theme first (so the first paint has the right colours), then React.
import '@atlaskit/css-reset';
import './base.css';
import React from 'react';
import { createRoot } from 'react-dom/client';
import { startPage } from './bridge.js';

export function mount(Component) {
  startPage().then((env) => {
    createRoot(document.getElementById('root')).render(
      <React.StrictMode>
        <Component env={env} />
      </React.StrictMode>,
    );
  });
}
