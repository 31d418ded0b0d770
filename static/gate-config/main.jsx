import { mount } from '../shared/mount.jsx';
import './gate-config.css';
import { App } from './App.jsx';

mount(App);
