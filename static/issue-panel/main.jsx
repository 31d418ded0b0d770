import React from 'react';
import { mount } from '../shared/mount.jsx';
import './panel.css';
import { App } from './App.jsx';
import { ConfirmPage } from './ConfirmPage.jsx';

// The panel's resource also draws its confirmations, in the platform's modal (`extension.modal`).
mount(({ env }) => (env.context?.extension?.modal ? <ConfirmPage env={env} /> : <App env={env} />));
