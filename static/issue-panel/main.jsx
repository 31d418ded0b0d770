import { mount } from '../shared/mount.jsx';
import './panel.css';
import { App } from './App.jsx';

mount(App);
