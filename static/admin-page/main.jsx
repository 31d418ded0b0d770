import { mount } from '../shared/mount.jsx';
import './admin.css';
import { App } from './App.jsx';

mount(App);
