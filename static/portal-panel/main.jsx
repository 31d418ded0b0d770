import { mount } from '../shared/mount.jsx';
import './portal.css';
import { App } from './App.jsx';

mount(App);
